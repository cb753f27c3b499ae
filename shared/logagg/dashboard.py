"""``logagg dashboard``: RQ's web view of the queues, workers and jobs (rq-dashboard).

The optional extra ``logagg[dashboard]`` (in the image) brings ``rq-dashboard``. This
serves its Flask app under gunicorn with what the workers use: ``REDIS_URL`` and the
project's JSON job serializer, so job arguments show as the batches they are. Deleting
jobs and emptying registries is off unless ``LOGAGG_DASHBOARD_ALLOW_DELETE=true``;
HTTP Basic credentials are asked when ``LOGAGG_DASHBOARD_USERNAME``/``_PASSWORD`` are set.
``GET /healthz`` (never behind the credentials) answers 200 while Redis does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify
from gunicorn.app.base import BaseApplication
from redis.exceptions import RedisError

from logagg.command_line import fail, help_parser, settings_message
from logagg.errors import SettingsError
from logagg.queues import JobSerializer
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
    setup_rq_connection(app)
    connection = connect_redis(redis)

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
