"""Prometheus metrics count what the service did."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from .conftest import WRITER, basic, bearer, login


def samples(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_counts_lines_bytes_requests_and_refusals(
    app_factory: Callable[..., Flask],
) -> None:
    app = app_factory(LOGAGG_MAX_BODY_BYTES="2KiB", LOGAGG_MAX_BACKLOG="2")
    client = app.test_client()
    token = login(client, *WRITER)["access"]
    client.post("/log", data="one\ntwo\nthree", headers=bearer(token))
    client.post("/log", data="x" * 5000, headers=bearer(token))
    client.post("/log", data="x", headers={**bearer(token), "Content-Type": "image/png"})
    client.post("/log", data="four", headers=bearer(token))
    client.post("/log", data="refused: backlog", headers=bearer(token))
    client.get("/auth/login", headers=basic(WRITER[0], "wrong-password-x"))
    found = samples(client)
    assert found[("logagg_ingest_lines_accepted_total", ())] == 4
    assert found[("logagg_ingest_bytes_accepted_total", ())] == len("one\ntwo\nthree") + 4
    assert found[("logagg_ingest_batches_enqueued_total", ())] == 2
    assert found[("logagg_ingest_backlog_jobs", ())] == 2
    assert found[("logagg_ingest_refused_total", (("reason", "body"), ("status", "413")))] == 1
    assert found[("logagg_ingest_refused_total", (("reason", "body"), ("status", "415")))] == 1
    assert found[("logagg_ingest_refused_total", (("reason", "backlog"), ("status", "429")))] == 1
    assert found[("logagg_ingest_login_failures_total", (("reason", "bad_credentials"),))] == 1
    key = (("method", "POST"), ("route", "/log"), ("status", "200"))
    assert found[("logagg_ingest_requests_total", key)] == 2
    assert found[("logagg_ingest_enqueue_seconds_count", ())] == 2


def test_apps_do_not_share_counts(app: Flask, client: FlaskClient) -> None:
    client.get("/healthz")
    key = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert samples(client)[("logagg_ingest_requests_total", key)] == 1
