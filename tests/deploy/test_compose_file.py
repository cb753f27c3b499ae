"""docker-compose.yml as Compose v2 resolves it (`docker-compose config`, no engine)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from logagg.queues import PARSE_JOB, SHIP_ES_JOB, SHIP_S3_JOB

from .conftest import REPO, compose_config

ONE_SHOT = {"elasticsearch-users", "minio-bucket", "setup"}
PROJECT_SERVICES = {"ingest", "parser", "shipper-es", "shipper-s3", "setup"}
SECRETS = (
    "REDIS_PASSWORD",
    "LOGAGG_JWT_SECRET",
    "LOGAGG_ADMIN_PASSWORD",
    "ELASTIC_PASSWORD",
    "KIBANA_PASSWORD",
    "KIBANA_ENCRYPTION_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "LOGAGG_DASHBOARD_PASSWORD",
)


def seconds(duration: str) -> float:
    """A Go duration as compose prints it (``1m30s``, ``150s``) in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def services(project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = project["services"]
    return found


def env_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_the_whole_stack_is_one_project(compose_project: dict[str, Any]) -> None:
    assert set(services(compose_project)) == {
        "redis",
        "elasticsearch",
        "elasticsearch-users",
        "kibana",
        "minio",
        "minio-bucket",
        "setup",
        "ingest",
        "ingest-proxy",
        "parser",
        "shipper-es",
        "shipper-s3",
    }


def test_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(f"{k}={v}" for k, v in env_example().items() if k != "LOGAGG_JWT_SECRET")
    )
    result = compose_config(env_file, "--quiet")
    assert result.returncode != 0
    assert "LOGAGG_JWT_SECRET" in result.stderr


def test_every_long_running_service_has_a_health_check(compose_project: dict[str, Any]) -> None:
    for name, service in services(compose_project).items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        healthcheck = service.get("healthcheck")
        assert healthcheck, f"{name} has no health check"
        assert not healthcheck.get("disable"), name
        assert healthcheck["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service["restart"] == "unless-stopped", name


def test_dependencies_wait_for_health_or_completion(compose_project: dict[str, Any]) -> None:
    all_services = services(compose_project)
    edges = 0
    for name, service in all_services.items():
        for dependency, how in service.get("depends_on", {}).items():
            edges += 1
            if dependency in ONE_SHOT:
                expected = "service_completed_successfully"
            else:
                expected = "service_healthy"
                assert all_services[dependency].get("healthcheck"), dependency
            assert how["condition"] == expected, f"{name} -> {dependency}"
    assert edges >= 11


@pytest.mark.parametrize(
    ("service", "needs"),
    [
        ("ingest", {"redis"}),
        ("parser", {"redis"}),
        ("shipper-es", {"redis", "elasticsearch"}),
        ("shipper-s3", {"redis", "minio", "minio-bucket"}),
        ("setup", {"elasticsearch", "kibana"}),
        ("kibana", {"elasticsearch-users"}),
        ("elasticsearch-users", {"elasticsearch"}),
        ("minio-bucket", {"minio"}),
    ],
)
def test_start_order(compose_project: dict[str, Any], service: str, needs: set[str]) -> None:
    assert set(services(compose_project)[service]["depends_on"]) == needs


def test_images_are_pinned(compose_project: dict[str, Any]) -> None:
    for name, service in services(compose_project).items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image}"
        assert re.fullmatch(r"\d+\.\d+\.\d+|RELEASE\.[0-9TZ-]+", tag), f"{name}: {image}"
    all_services = services(compose_project)
    assert all_services["elasticsearch"]["image"].startswith(
        "docker.elastic.co/elasticsearch/elasticsearch:8.17."
    )
    assert all_services["kibana"]["image"].startswith("docker.elastic.co/kibana/kibana:8.17.")
    assert all_services["redis"]["image"].startswith("redis:7.4.")


def test_project_services_share_one_image_and_choose_by_command(
    compose_project: dict[str, Any],
) -> None:
    all_services = services(compose_project)
    images = {all_services[name]["image"] for name in PROJECT_SERVICES}
    assert images == {"logagg:0.1.0"}
    for name in PROJECT_SERVICES:
        assert all_services[name]["build"]["context"] == str(REPO)
    assert all_services["ingest"]["command"] == ["ingest"]
    assert all_services["parser"]["command"] == ["parser"]
    assert all_services["shipper-es"]["command"] == ["shipper", "es"]
    assert all_services["shipper-s3"]["command"] == ["shipper", "s3"]
    setup = " ".join(all_services["setup"]["command"])
    assert setup.index("logagg shipper install-templates") < setup.index("logagg kibana import")


def test_state_lives_in_volumes(compose_project: dict[str, Any]) -> None:
    all_services = services(compose_project)
    mounts = {
        name: {m["target"]: m["source"] for m in service.get("volumes", [])}
        for name, service in all_services.items()
    }
    assert mounts["redis"]["/data"] == "redis-data"
    assert mounts["elasticsearch"]["/usr/share/elasticsearch/data"] == "es-data"
    assert mounts["minio"]["/data"] == "minio-data"
    for name in ("redis", "elasticsearch", "minio"):
        for mount in all_services[name]["volumes"]:
            assert mount["type"] == "volume", name
    assert {"redis-data", "es-data", "minio-data"} <= set(compose_project["volumes"])


def test_redis_appends_every_write_to_its_log(compose_project: dict[str, Any]) -> None:
    # started through the shell (for the password): the command is one line
    (command,) = services(compose_project)["redis"]["command"]
    assert "--appendonly yes" in command


def test_redis_requires_the_password_every_client_is_given(
    compose_project_with_dashboard: dict[str, Any],
) -> None:
    all_services = services(compose_project_with_dashboard)
    redis = all_services["redis"]
    password = env_example()["REDIS_PASSWORD"]
    assert redis["entrypoint"] == ["/bin/sh", "-c"]
    (command,) = redis["command"]
    assert command.startswith("exec redis-server ")
    # $$ is compose's escape: the shell reads the variable, not compose
    assert '--requirepass "$${REDIS_PASSWORD}"' in command
    assert redis["environment"]["REDIS_PASSWORD"] == password
    assert redis["environment"]["REDISCLI_AUTH"] == password
    assert "--protected-mode" not in command
    clients = [
        name
        for name, service in all_services.items()
        if "REDIS_URL" in service.get("environment", {})
    ]
    assert set(clients) == PROJECT_SERVICES | {"rq-dashboard"}
    for name in clients:
        url = all_services[name]["environment"]["REDIS_URL"]
        assert url == f"redis://:{password}@redis:6379/0", name


def test_compose_refuses_to_start_without_the_redis_password(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(f"{k}={v}" for k, v in env_example().items() if k != "REDIS_PASSWORD")
    )
    result = compose_config(env_file, "--quiet")
    assert result.returncode != 0
    assert "REDIS_PASSWORD" in result.stderr


def test_elasticsearch_has_security_on_and_kibana_its_own_user(
    compose_project: dict[str, Any],
) -> None:
    all_services = services(compose_project)
    es_env = all_services["elasticsearch"]["environment"]
    assert es_env["xpack.security.enabled"] == "true"
    assert es_env["discovery.type"] == "single-node"
    assert es_env["ELASTIC_PASSWORD"] == env_example()["ELASTIC_PASSWORD"]
    kibana_env = all_services["kibana"]["environment"]
    assert kibana_env["ELASTICSEARCH_USERNAME"] == "kibana_system"
    assert kibana_env["ELASTICSEARCH_PASSWORD"] == env_example()["KIBANA_PASSWORD"]
    users = " ".join(all_services["elasticsearch-users"]["command"])
    assert "/_security/user/kibana_system/_password" in users


def test_services_get_only_the_credentials_they_use(compose_project: dict[str, Any]) -> None:
    all_services = services(compose_project)

    def names(service: str) -> set[str]:
        return set(all_services[service]["environment"])

    assert "LOGAGG_JWT_SECRET" in names("ingest")
    assert "AWS_SECRET_ACCESS_KEY" in names("shipper-s3")
    assert "ELASTICSEARCH_PASSWORD" in names("shipper-es")
    for service in ("parser", "shipper-es", "shipper-s3", "setup"):
        assert "LOGAGG_JWT_SECRET" not in names(service), service
    for service in ("ingest", "parser", "shipper-es", "setup"):
        assert "AWS_SECRET_ACCESS_KEY" not in names(service), service
    for service in ("ingest", "parser", "shipper-s3"):
        assert "ELASTICSEARCH_PASSWORD" not in names(service), service
    s3 = all_services["shipper-s3"]["environment"]
    assert s3["LOGAGG_S3_PATH_STYLE"] == "true"
    assert s3["AWS_ENDPOINT_URL_S3"] == "http://minio:9000"
    for service in PROJECT_SERVICES:
        assert all_services[service]["environment"]["LOGAGG_LOG_FORMAT"] == "json"


def test_ingest_parser_and_workers(compose_project: dict[str, Any]) -> None:
    all_services = services(compose_project)
    (port,) = all_services["ingest"]["ports"]
    # nginx's port (ingest-proxy shares the service's network namespace)
    assert port["target"] == 3001
    assert port["published"] == "3001"
    # gunicorn on loopback behind it, trusting its X-Forwarded-For only
    ingest_env = all_services["ingest"]["environment"]
    assert (ingest_env["LOGAGG_INGEST_HOST"], ingest_env["LOGAGG_INGEST_PORT"]) == (
        "127.0.0.1", "3002"
    )  # fmt: skip
    assert ingest_env["LOGAGG_TRUSTED_PROXIES"] == "127.0.0.1/32"
    assert all_services["parser"]["deploy"]["replicas"] == 2
    workers = ("parser", "shipper-es", "shipper-s3")
    grace = {name: seconds(all_services[name]["stop_grace_period"]) for name in workers}
    assert grace["parser"] > PARSE_JOB.timeout
    assert grace["shipper-es"] > SHIP_ES_JOB.timeout
    assert grace["shipper-s3"] > SHIP_S3_JOB.timeout
    for name in workers:
        assert all_services[name]["healthcheck"]["test"] == [
            "CMD",
            "python",
            "/app/healthcheck.py",
            "worker",
        ]


def test_env_example_names_every_variable_and_no_real_secret() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    example = env_example()
    assert referenced == set(example), referenced ^ set(example)
    for name in SECRETS:
        assert example[name] == "CHANGE-ME", name


# -- the optional RQ dashboard ------------------------------------------------------------


def test_the_dashboard_runs_only_with_its_profile(
    compose_project: dict[str, Any], compose_project_with_dashboard: dict[str, Any]
) -> None:
    assert "rq-dashboard" not in services(compose_project)
    with_dashboard = services(compose_project_with_dashboard)
    assert set(with_dashboard) == set(services(compose_project)) | {"rq-dashboard"}
    assert with_dashboard["rq-dashboard"]["profiles"] == ["dashboard"]


def test_without_the_profile_the_dashboard_password_is_not_asked(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(f"{k}={v}" for k, v in env_example().items() if k != "LOGAGG_DASHBOARD_PASSWORD")
    )
    assert compose_config(env_file, "--quiet").returncode == 0


def test_the_dashboard_is_the_project_image_on_loopback_with_a_health_check(
    compose_project_with_dashboard: dict[str, Any],
) -> None:
    all_services = services(compose_project_with_dashboard)
    dashboard = all_services["rq-dashboard"]
    assert dashboard["image"] == all_services["ingest"]["image"]
    assert dashboard["build"]["context"] == str(REPO)
    assert dashboard["command"] == ["dashboard"]
    (port,) = dashboard["ports"]
    assert (port["host_ip"], port["published"], port["target"]) == ("127.0.0.1", "9181", 9181)
    env = dashboard["environment"]
    assert env["LOGAGG_DASHBOARD_PORT"] == "9181"
    assert env["LOGAGG_DASHBOARD_HOST"] == "0.0.0.0"
    assert env["REDIS_URL"] == all_services["parser"]["environment"]["REDIS_URL"]
    assert env["LOGAGG_DASHBOARD_PASSWORD"] == env_example()["LOGAGG_DASHBOARD_PASSWORD"]
    for secret in ("LOGAGG_JWT_SECRET", "AWS_SECRET_ACCESS_KEY", "ELASTICSEARCH_PASSWORD"):
        assert secret not in env
    assert dashboard["depends_on"] == {"redis": {"condition": "service_healthy", "required": True}}
    assert dashboard["healthcheck"]["test"] == [
        "CMD",
        "python",
        "/app/healthcheck.py",
        "dashboard",
    ]
    assert dashboard["restart"] == "unless-stopped"


def test_ingest_is_served_through_the_shipped_proxy(compose_project: dict[str, Any]) -> None:
    proxy = services(compose_project)["ingest-proxy"]
    assert proxy["network_mode"] == "service:ingest"
    assert proxy["image"].startswith("nginxinc/nginx-unprivileged:")
    (mount,) = proxy["volumes"]
    assert Path(mount["source"]) == REPO / "kube" / "base" / "ingest-proxy.conf"
    assert mount["target"] == "/etc/nginx/conf.d/default.conf"
    assert mount["read_only"] is True
    assert proxy["depends_on"]["ingest"]["condition"] == "service_healthy"
    assert "healthcheck" in proxy


def test_published_ports_are_on_loopback_only(
    compose_project_with_dashboard: dict[str, Any],
) -> None:
    published = 0
    for name, service in services(compose_project_with_dashboard).items():
        for port in service.get("ports", []):
            published += 1
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port}"
    assert published == 4  # ingest, Kibana, the MinIO console, the dashboard
