"""``logagg dashboard``: RQ's web view of the queues, workers and jobs (rq-dashboard).

The optional extra ``logagg[dashboard]`` (in the image) brings ``rq-dashboard``. This
serves its Flask app under gunicorn with what the workers use: ``REDIS_URL`` and the
project's JSON job serializer, so job arguments show as the batches they are. Deleting
jobs and emptying registries is off unless ``LOGAGG_DASHBOARD_ALLOW_DELETE=true``;
HTTP Basic credentials are asked when ``LOGAGG_DASHBOARD_USERNAME``/``_PASSWORD`` are set.
``GET /healthz`` (never behind the credentials) answers 200 while Redis does.

rq-dashboard fetches some jobs (the job page, requeueing, the workers' current jobs)
without a serializer, and RQ then falls back to pickle: whoever can write a job's fields
into Redis would run code in the dashboard when its page is opened. So every job and
worker it builds uses the project's JSON serializer (pickle is never loaded). Its routes
that change state (requeue, delete, empty, compact) answer only ``POST`` (405 otherwise),
and refuse with 403 a ``POST`` whose ``Origin`` (or, without one, ``Referer``) is another
site, so that a page elsewhere cannot use a browser's cached Basic credentials.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request
from gunicorn.app.base import BaseApplication
from redis.exceptions import RedisError

from logagg.command_line import fail, help_parser, settings_message
from logagg.errors import SettingsError
from logagg.queues import BatchJob, JobSerializer
from logagg.redis_connection import connect_redis
from logagg.settings import DashboardSettings, RedisSettings, mask_url

PROG = "logagg dashboard"
SHM = "/dev/shm"  # noqa: S108 - gunicorn's worker heartbeat files, no data
MISSING = "rq-dashboard is not installed: pip install 'logagg[dashboard]' (the image has it)"

EXAMPLES = """
  logagg dashboard                                  http://127.0.0.1:9181
  LOGAGG_DASHBOARD_HOST=0.0.0.0 logagg dashboard    in a container
  LOGAGG_DASHBOARD_USERNAME=ops LOGAGG_DASHBOARD_PASSWORD=... logagg dashboard

Settings: REDIS_URL, LOGAGG_DASHBOARD_HOST, LOGAGG_DASHBOARD_PORT (9181),
LOGAGG_DASHBOARD_USERNAME / LOGAGG_DASHBOARD_PASSWORD (HTTP Basic, both or neither),
LOGAGG_DASHBOARD_ALLOW_DELETE (false: jobs can be requeued, not deleted).
"""


# rq-dashboard's endpoints that change state (its blueprint is named "rq_dashboard").
MUTATING_ENDPOINTS = frozenset(
    f"rq_dashboard.{name}"
    for name in (
        "delete_job_view",
        "requeue_job_view",
        "requeue_all",
        "empty_queue",
        "compact_queue",
    )
)


class DashboardJob(BatchJob):
    """A job read with the project's serializer whatever serializer the caller names."""

    def __init__(self, id: str | None = None, connection: Any = None, serializer: Any = None):
        super().__init__(id, connection=connection, serializer=JobSerializer)

    def get_meta(self, refresh: bool = True) -> dict[str, Any]:
        # RQ reads the field again here without the guard its restore has: a field that is
        # not JSON (a pickle, say) is shown as refused, never loaded, never a 500.
        try:
            meta: dict[str, Any] = super().get_meta(refresh)
        except ValueError:
            meta = {"unserialized": "not JSON: not loaded"}
        return meta


def same_origin(origin: str, host_url: str) -> bool:
    """Whether ``origin`` (an Origin or Referer value) names the site at ``host_url``."""
    claimed, expected = urlsplit(origin), urlsplit(host_url)
    return (claimed.scheme, claimed.netloc.lower()) == (expected.scheme, expected.netloc.lower())


def _json_serialized_everywhere() -> None:
    """Make rq-dashboard build every job and worker with the project's serializer."""
    from rq import Worker
    from rq_dashboard import web

    class DashboardWorker(Worker):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["serializer"] = JobSerializer
            kwargs["job_class"] = DashboardJob
            super().__init__(*args, **kwargs)

    def requeue_job(job_id: str, connection: Any, serializer: Any = None) -> Any:
        job = DashboardJob.fetch(job_id, connection=connection)
        if "unserialized" in job.meta:
            job.meta = {}  # not JSON, so not the pipeline's: it is not written back
        return job.requeue()

    web.Job = DashboardJob
    web.Worker = DashboardWorker
    web.requeue_job = requeue_job


def create_app(redis: RedisSettings, dashboard: DashboardSettings) -> Flask:
    """The rq-dashboard app on ``redis``, with the project's serializer and ``/healthz``.

    Raises ``ImportError`` when rq-dashboard is not installed.
    """
    from rq_dashboard.cli import make_flask_app
    from rq_dashboard.web import config, setup_rq_connection

    password = dashboard.password.reveal() if dashboard.password else None
    app: Flask = make_flask_app(None, dashboard.username, password, "")
    app.config["RQ_DASHBOARD_REDIS_URL"] = [redis.url]
    app.config["RQ_DASHBOARD_DISABLE_DELETE"] = not dashboard.allow_delete
    # the dashboard reads jobs with one process-wide serializer: ours writes plain JSON
    config.serializer = JobSerializer
    _json_serialized_everywhere()
    setup_rq_connection(app)
    connection = connect_redis(redis)

    @app.before_request
    def refuse_cross_site_changes() -> tuple[Response, int] | None:
        if request.endpoint not in MUTATING_ENDPOINTS:
            return None
        if request.method != "POST":
            return jsonify(error="method_not_allowed", message="use POST to change state"), 405
        claimed = request.headers.get("Origin") or request.headers.get("Referer")
        # Browsers send Origin with every POST; a client without one (curl) is no CSRF.
        if claimed and not same_origin(claimed, request.host_url):
            return jsonify(error="forbidden", message="cross-site request refused"), 403
        return None

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            connection.ping()
        except RedisError:
            return jsonify(status="redis unreachable"), 503
        return jsonify(status="ok"), 200

    return app


class DashboardServer(BaseApplication):  # type: ignore[misc]
    """gunicorn serving one Flask app in this process (one worker, a few threads)."""

    def __init__(self, app: Flask, options: Mapping[str, Any]) -> None:
        self.application = app
        self.options = dict(options)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def main(argv: list[str] | None = None) -> int:
    help_parser(
        PROG,
        "Serve RQ's web dashboard of the pipeline's queues, workers and jobs (rq-dashboard).",
        EXAMPLES,
    ).parse_args(argv)
    try:
        redis = RedisSettings.from_env(os.environ)
        dashboard = DashboardSettings.from_env(os.environ)
    except SettingsError as error:
        return fail(PROG, settings_message(error))
    try:
        app = create_app(redis, dashboard)
    except ImportError:
        return fail(PROG, MISSING)
    print(
        f"{PROG}: http://{dashboard.host}:{dashboard.port}/ on {mask_url(redis.url)}",
        file=sys.stderr,
    )
    DashboardServer(
        app,
        {
            "bind": f"{dashboard.host}:{dashboard.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": 4,
            "timeout": 30,
            "graceful_timeout": 10,
            "control_socket_disable": True,  # nothing drives it; it would need a home
            # the heartbeat file on memory, not on a read-only root filesystem
            "worker_tmp_dir": SHM if os.path.isdir(SHM) else None,
        },
    ).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
