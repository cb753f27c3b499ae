"""``logagg dashboard``: rq-dashboard served with the project's Redis and serializer."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from logagg.embedded import free_port
from logagg.errors import SettingsError
from logagg.queues import PARSE_JOB, RawBatch, enqueue
from logagg.settings import DashboardSettings

CREDENTIALS = {"Authorization": "Basic " + base64.b64encode(b"ops:ops-password").decode()}


def test_credentials_come_in_pairs_and_deleting_is_off_by_default() -> None:
    settings = DashboardSettings.from_env({})
    assert (settings.host, settings.port, settings.username) == ("127.0.0.1", 9181, None)
    assert settings.allow_delete is False
    with pytest.raises(SettingsError, match="LOGAGG_DASHBOARD_PASSWORD: is required"):
        DashboardSettings.from_env({"LOGAGG_DASHBOARD_USERNAME": "ops"})
    with pytest.raises(SettingsError, match="LOGAGG_DASHBOARD_USERNAME: is required"):
        DashboardSettings.from_env({"LOGAGG_DASHBOARD_PASSWORD": "ops-password"})
    with pytest.raises(SettingsError, match="LOGAGG_DASHBOARD_PASSWORD: at least 12"):
        DashboardSettings.from_env(
            {"LOGAGG_DASHBOARD_USERNAME": "ops", "LOGAGG_DASHBOARD_PASSWORD": "CHANGE-ME"}
        )
    assert "ops-password" not in repr(
        DashboardSettings.from_env(
            {"LOGAGG_DASHBOARD_USERNAME": "ops", "LOGAGG_DASHBOARD_PASSWORD": "ops-password"}
        )
    )


def get(url: str, *, method: str = "GET", auth: bool = True) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method, headers=CREDENTIALS if auth else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


@pytest.fixture
def dashboard(redis_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "LOGAGG_DASHBOARD_PORT": str(port),
        "LOGAGG_DASHBOARD_USERNAME": "ops",
        "LOGAGG_DASHBOARD_PASSWORD": "ops-password",
    }
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "dashboard.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "logagg.cli", "dashboard"], env=env, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                assert process.poll() is None, (tmp_path / "dashboard.log").read_text()
                try:
                    if get(f"{base}/healthz", auth=False)[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.mark.integration
def test_the_dashboard_shows_the_pipelines_queues_and_jobs(dashboard: str, redis_url: str) -> None:
    batch = RawBatch(
        batch_id="b1",
        service="billing",
        source_ip="198.51.100.7",
        received_at="2026-11-28T10:00:00.000Z",
        content_kind="text",
        lines=["hello"],
        truncated=[],
        invalid_utf8=[],
    )
    job = enqueue(PARSE_JOB, batch, Redis.from_url(redis_url))

    assert get(f"{dashboard}/0/data/queues.json", auth=False)[0] == 401
    status, answer = get(f"{dashboard}/0/data/queues.json")
    assert status == 200
    (parse,) = answer["queues"]
    assert (parse["name"], parse["count"]) == ("parse", 1)
    # the job is read with the project's JSON serializer
    status, answer = get(f"{dashboard}/0/data/job/{job.id}.json")
    assert (status, answer["status"], answer["origin"]) == (200, "queued", "parse")
    assert answer["description"] == "logagg.parser.jobs.parse_batch(batch_id='b1')"
    # deleting is off unless LOGAGG_DASHBOARD_ALLOW_DELETE=true
    assert get(f"{dashboard}/job/{job.id}/delete", method="POST") == (200, {"status": "DISABLED"})
    assert Redis.from_url(redis_url).llen("rq:queue:parse") == 1


def test_without_rq_dashboard_the_command_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from logagg import dashboard

    monkeypatch.setitem(sys.modules, "rq_dashboard.cli", None)
    assert dashboard.main([]) == 1
    assert capsys.readouterr().err == (
        "logagg dashboard: rq-dashboard is not installed: pip install 'logagg[dashboard]' "
        "(the image has it)\n"
    )


class _MakesADirectory:
    """Unpickling this calls os.mkdir(path): proof that a pickle was loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (self.path,))


@pytest.fixture
def dashboard_client(redis_url: str) -> Any:
    from logagg.dashboard import create_app
    from logagg.settings import RedisSettings

    app = create_app(
        RedisSettings.from_env({"REDIS_URL": redis_url}),
        DashboardSettings.from_env({"LOGAGG_DASHBOARD_ALLOW_DELETE": "true"}),
    )
    return app.test_client()


def failed_job_with_pickled_meta(redis_url: str, marker: Path) -> str:
    import pickle

    from rq.registry import FailedJobRegistry

    from logagg.queues import PARSE, JobSerializer, job_queue

    connection = Redis.from_url(redis_url)
    job = job_queue(PARSE, connection).enqueue(PARSE_JOB.func, {"batch_id": "p"})
    job_queue(PARSE, connection).remove(job.id)
    FailedJobRegistry(PARSE, connection=connection, serializer=JobSerializer).add(job, ttl=600)
    # What someone who can write to Redis would put there.
    connection.hset(job.key, "meta", pickle.dumps(_MakesADirectory(str(marker))))
    connection.hset(job.key, "status", "failed")
    return str(job.id)


@pytest.mark.integration
def test_a_pickled_job_field_is_never_loaded(
    dashboard_client: Any, redis_url: str, tmp_path: Path
) -> None:
    marker = tmp_path / "unpickled"
    job_id = failed_job_with_pickled_meta(redis_url, marker)
    assert dashboard_client.get(f"/0/view/job/{job_id}").status_code == 200
    assert dashboard_client.get(f"/0/data/job/{job_id}.json").status_code == 200
    dashboard_client.get("/0/data/workers.json")
    requeued = dashboard_client.post(f"/job/{job_id}/requeue")
    assert requeued.status_code == 200
    assert not marker.exists(), "the dashboard unpickled a job's field"


@pytest.mark.integration
def test_state_changes_only_by_same_site_post(
    dashboard_client: Any, redis_url: str, tmp_path: Path
) -> None:
    from rq.registry import FailedJobRegistry

    from logagg.queues import PARSE, JobSerializer

    job_id = failed_job_with_pickled_meta(redis_url, tmp_path / "unused")
    failed = FailedJobRegistry(
        PARSE, connection=Redis.from_url(redis_url), serializer=JobSerializer
    )
    refused = dashboard_client.get(f"/requeue/{PARSE}")
    assert refused.status_code == 405
    assert refused.get_json()["error"] == "method_not_allowed"
    for path in (f"/job/{job_id}/requeue", f"/job/{job_id}/delete", f"/queue/{PARSE}/failed/empty"):
        assert dashboard_client.get(path).status_code == 405, path
    foreign = dashboard_client.post(
        f"/requeue/{PARSE}", headers={"Origin": "https://attacker.example"}
    )
    assert foreign.status_code == 403
    foreign = dashboard_client.post(
        f"/requeue/{PARSE}", headers={"Referer": "https://attacker.example/page"}
    )
    assert foreign.status_code == 403
    assert failed.get_job_ids() == [job_id], "a refused request changed state"
    allowed = dashboard_client.post(f"/requeue/{PARSE}", headers={"Origin": "http://localhost"})
    assert allowed.status_code == 200
    assert allowed.get_json()["count"] == 1
    assert failed.get_job_ids() == []


def test_same_origin_compares_scheme_host_and_port() -> None:
    from logagg.dashboard import same_origin

    assert same_origin("http://localhost:9181", "http://localhost:9181/")
    assert same_origin("http://LOCALHOST:9181/0/view", "http://localhost:9181/")
    assert not same_origin("http://localhost:9182", "http://localhost:9181/")
    assert not same_origin("https://localhost:9181", "http://localhost:9181/")
    assert not same_origin("null", "http://localhost:9181/")
