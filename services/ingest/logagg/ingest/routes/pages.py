"""Pages for people: ``GET /`` (what this server is) and ``GET /docs`` (Swagger UI).

Neither needs a login: they show no data, only what ``/openapi.json`` already says.
Swagger UI's files come from the ``flask-swagger-ui`` wheel and are served by this app
(``/docs/static/...``), so the page works on machines without internet access. The page
loads ``/openapi.json`` from this same server.
"""

from __future__ import annotations

import html
from importlib import metadata
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, jsonify, request, send_from_directory, url_for

blueprint = Blueprint("pages", __name__)

NAME = "LogAggregator"
# Swagger UI's dist folder inside the wheel (swagger-ui-bundle.js, swagger-ui.css, ...).
SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
# The assets change only with the wheel: a day in caches, revalidated by ETag after.
ASSET_MAX_AGE = 86_400
# The page and its script come from here alone; Swagger UI sets inline styles.
_DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def package_version() -> str:
    """This distribution's version, from its installed metadata."""
    try:
        return metadata.version("logagg")
    except metadata.PackageNotFoundError:
        return "unknown"


def _links() -> dict[str, str]:
    return {
        "docs": url_for("pages.docs"),
        "health": url_for("health.healthz"),
        "openapi": url_for("health.openapi"),
    }


def _home_html(version: str, links: dict[str, str]) -> str:
    items = "\n".join(
        f'    <li><a href="{html.escape(href)}">{html.escape(href)}</a> {label}</li>'
        for href, label in (
            (links["docs"], "interactive API documentation"),
            (links["health"], "liveness"),
            (links["openapi"], "the OpenAPI document"),
        )
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{NAME}</title></head>
<body>
  <h1>{NAME} ingest</h1>
  <p>Online, version {html.escape(version)}.</p>
  <ul>
{items}
  </ul>
</body>
</html>
"""


def home() -> Response:
    """Name, version and links: HTML, or JSON for a client that prefers it (served at ``/``
    by the Elasticsearch-compatible root, for whatever is not an Elasticsearch client)."""
    version, links = package_version(), _links()
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    ):
        response = jsonify(name=NAME, status="online", version=version, links=links)
    else:
        response = Response(_home_html(version, links), mimetype="text/html")
    response.vary.add("Accept")
    return response


_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{name} API</title>
  <link rel="stylesheet" href="{static}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{static}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi}"></div>
  <script src="{static}/swagger-ui-bundle.js"></script>
  <script src="{static}/swagger-ui-standalone-preset.js"></script>
  <script src="{init}"></script>
</body>
</html>
"""

# In a file rather than inline, so the page's policy needs no inline script. No validator:
# Swagger UI would otherwise send the document to its public validation service.
_DOCS_INIT = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
});
"""


@blueprint.get("/docs")
def docs() -> Response:
    """Swagger UI on this server's OpenAPI document."""
    page = _DOCS_PAGE.format(
        name=NAME,
        static=url_for("pages.docs_asset", filename="").rstrip("/"),
        openapi=url_for("health.openapi"),
        init=url_for("pages.docs_init"),
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _DOCS_POLICY
    response.cache_control.no_cache = True
    return response


@blueprint.get("/docs/init.js")
def docs_init() -> Response:
    """The script that starts Swagger UI on the page."""
    response = Response(_DOCS_INIT, mimetype="text/javascript")
    response.cache_control.no_cache = True
    return response


@blueprint.get("/docs/static/<path:filename>")
def docs_asset(filename: str) -> Response:
    """Swagger UI's own files, from the wheel (404 for anything else)."""
    response = send_from_directory(SWAGGER_UI_DIST, filename, max_age=ASSET_MAX_AGE)
    response.cache_control.public = True
    return response
