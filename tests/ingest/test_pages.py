"""``GET /`` and ``GET /docs``: pages for people, no login, assets from the app itself."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from logagg.ingest.routes.pages import SWAGGER_UI_DIST, package_version


def test_home_is_an_html_page_with_name_version_and_links(client: FlaskClient) -> None:
    response = client.get("/", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "LogAggregator" in page
    assert package_version() in page
    assert package_version() != "unknown"
    for link in ("/docs", "/healthz", "/openapi.json"):
        assert f'href="{link}"' in page
    assert "Accept" in response.headers["Vary"]


def test_home_without_accept_is_html(client: FlaskClient) -> None:
    assert client.get("/").mimetype == "text/html"


def test_home_answers_json_to_a_client_that_prefers_it(client: FlaskClient) -> None:
    for accept in ("application/json", "application/json, text/html;q=0.5"):
        response = client.get("/", headers={"Accept": accept})
        assert response.status_code == 200
        assert response.get_json() == {
            "name": "LogAggregator",
            "status": "online",
            "version": package_version(),
            "links": {"docs": "/docs", "health": "/healthz", "openapi": "/openapi.json"},
        }


def test_docs_page_loads_this_servers_openapi_from_local_assets(client: FlaskClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'data-openapi-url="/openapi.json"' in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/docs/static/swagger-ui-bundle.js" in sources
    assert "/docs/static/swagger-ui.css" in sources
    assert all(source.startswith("/") for source in sources), "every asset from this server"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script>" not in page, "no inline script: the policy forbids it"
    init = client.get("/docs/init.js")
    assert init.status_code == 200
    script = init.get_data(as_text=True)
    assert "SwaggerUIBundle" in script
    assert "validatorUrl: null" in script, "no document sent to the public validator"


def test_docs_assets_are_served_with_caching_headers(client: FlaskClient) -> None:
    response = client.get("/docs/static/swagger-ui-bundle.js")
    assert response.status_code == 200
    assert response.get_data() == (SWAGGER_UI_DIST / "swagger-ui-bundle.js").read_bytes()
    assert response.cache_control.max_age == 86_400
    assert response.cache_control.public
    etag = response.headers["ETag"]
    again = client.get("/docs/static/swagger-ui-bundle.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_docs_assets_outside_the_dist_folder_are_not_found(client: FlaskClient) -> None:
    for path in ("/docs/static/nope.js", "/docs/static/../__init__.py", "/docs/static/%2e%2e/x"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"


def test_pages_need_no_login_and_open_nothing_else(client: FlaskClient) -> None:
    for path in ("/", "/docs", "/docs/static/swagger-ui.css", "/docs/init.js"):
        assert client.get(path).status_code == 200
    assert client.post("/").status_code == 405
    assert client.post("/log", data="x").status_code == 401
