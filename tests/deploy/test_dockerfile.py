"""The image: multi-stage, dependencies in their own layer, non-root, no compilers at run
time, a health check; and a build context that leaves secrets, data and tests out."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPILERS = ("build-essential", "gcc", "g++", "clang", "make", "cc ", "python3-dev", "libc6-dev")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def of(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), words[0])
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else None
            stages.append(Stage(base, name))
        elif not stages and keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default
        elif stages:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    return parse_dockerfile((REPO / "Dockerfile").read_text())


def final_stage_user() -> str:
    _, stages = dockerfile()
    users = stages[-1].of("USER")
    assert users, "the final stage sets no USER: it would run as root"
    return users[-1]


def test_multi_stage_on_a_pinned_slim_python_3_13() -> None:
    _, stages = dockerfile()
    assert len(stages) >= 2
    for stage in stages:
        assert re.fullmatch(r"python:3\.13\.\d+-slim(-\w+)?", stage.base), stage.base


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    user = final_stage_user()
    uid, _, gid = user.partition(":")
    # numeric, so that Kubernetes' runAsNonRoot can check it without a passwd file
    assert uid.isdigit(), user
    assert int(uid) > 0
    assert gid == "" or (gid.isdigit() and int(gid) > 0)
    _, stages = dockerfile()
    created = " ".join(stages[-1].of("RUN"))
    assert f"--uid {uid}" in created


def test_no_compilers_in_the_final_stage() -> None:
    _, stages = dockerfile()
    final = stages[-1]
    for command in final.of("RUN"):
        for compiler in COMPILERS:
            assert compiler not in command + " ", f"final stage installs {compiler.strip()}"
    # the runtime takes the built virtualenv from the build stage, not a new pip install
    assert any("--from=" in copy and "/opt/venv" in copy for copy in final.of("COPY"))
    assert not any("pip install" in command for command in final.of("RUN"))


def test_dependencies_are_installed_in_their_own_layer() -> None:
    _, stages = dockerfile()
    build = stages[0]
    order = [(kw, args) for kw, args in build.instructions if kw in ("COPY", "RUN")]
    copies = [i for i, (kw, args) in enumerate(order) if kw == "COPY"]
    first_copy = order[copies[0]][1]
    assert first_copy.split()[0] == "pyproject.toml", "copy only the dependency list first"
    deps = next(i for i, (kw, args) in enumerate(order) if "pip install -r" in args)
    code = next(i for i, (kw, args) in enumerate(order) if kw == "COPY" and "shared/" in args)
    assert copies[0] < deps < code
    project = next(i for i, (kw, args) in enumerate(order) if "pip install --no-deps" in args)
    assert project > code
    # the optional dashboard extra is in the image (`logagg dashboard`)
    assert "['optional-dependencies']['dashboard']" in order[deps][1]


def test_one_image_many_commands_with_a_health_check() -> None:
    _, stages = dockerfile()
    final = stages[-1]
    assert json.loads(final.of("ENTRYPOINT")[-1]) == ["logagg"]
    assert json.loads(final.of("CMD")[-1]) == ["ingest"]
    (healthcheck,) = final.of("HEALTHCHECK")
    command = healthcheck.split("CMD", 1)[1].strip()
    assert json.loads(command) == ["python", "/app/healthcheck.py"]
    assert "3001" in final.of("EXPOSE")
    copied = " ".join(final.of("COPY"))
    assert "deploy/healthcheck.py /app/healthcheck.py" in copied
    assert "kibana/ /app/kibana/" in copied


# -- .dockerignore ----------------------------------------------------------------------


def ignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _matches(path: str, pattern: str) -> bool:
    pattern = pattern.strip("/")
    candidates = [pattern]
    while candidates[-1].startswith("**/"):
        candidates.append(candidates[-1][3:])
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatchcase(p, c) for p in prefixes for c in candidates)


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern decides; ``!`` re-includes."""
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _matches(path, pattern.lstrip("!")):
            verdict = not negated
    return verdict


def test_the_matcher_follows_dockers_rules() -> None:
    assert ignored("a/.env", ["**/.env"])
    assert ignored(".env", ["**/.env"])
    assert not ignored(".env", ["**/.env", "!.env"])
    assert ignored("data/x/y.log", ["data/"])
    assert not ignored("database.py", ["data/"])


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.local",
        "services/ingest/.env",
        "data/archive/logs.ndjson.gz",
        ".cache/elasticsearch/elasticsearch.zip",
        ".venv/bin/python",
        "tests/conftest.py",
        "shared/logagg/__pycache__/cli.cpython-313.pyc",
        ".git/HEAD",
        ".mypy_cache/x",
        "logagg.egg-info/PKG-INFO",
    ],
)
def test_dockerignore_keeps_secrets_data_caches_and_tests_out(path: str) -> None:
    assert ignored(path, ignore_patterns()), f"{path} would be sent to the image build"


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "shared/logagg/cli.py",
        "services/ingest/logagg/ingest/app.py",
        "deploy/healthcheck.py",
        "kibana/saved_objects.ndjson",
    ],
)
def test_dockerignore_keeps_what_the_build_copies(path: str) -> None:
    assert (REPO / path).exists()
    assert not ignored(path, ignore_patterns()), f"{path} is needed by the Dockerfile"


def test_every_copied_source_is_in_the_build_context() -> None:
    _, stages = dockerfile()
    for stage in stages:
        for copy in stage.of("COPY"):
            words = [w for w in shlex.split(copy) if not w.startswith("--")]
            if any(w.startswith("--from") for w in shlex.split(copy)):
                continue
            for source in words[:-1]:
                assert (REPO / source).exists(), source
                assert not ignored(source.rstrip("/"), ignore_patterns()), source


# -- the health check script ------------------------------------------------------------


def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", REPO / "deploy" / "healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_health_check_picks_the_role_from_the_container_command() -> None:
    check = healthcheck()
    assert check.detect_role(b"/opt/venv/bin/python\0/opt/venv/bin/logagg\0ingest\0") == "ingest"
    gunicorn = b"/opt/venv/bin/python\0-m\0gunicorn\0-c\0python:logagg.ingest.gunicorn_conf\0"
    assert check.detect_role(gunicorn) == "ingest"
    assert check.detect_role(b"python\0/opt/venv/bin/logagg\0parser\0") == "worker"
    assert check.detect_role(b"python\0/opt/venv/bin/logagg\0shipper\0es\0") == "worker"
    assert check.detect_role(b"python\0/opt/venv/bin/logagg\0dashboard\0") == "dashboard"
    assert check.dashboard_url({"LOGAGG_DASHBOARD_PORT": "9999"}) == (
        "http://127.0.0.1:9999/healthz"
    )


def test_health_check_targets() -> None:
    check = healthcheck()
    assert check.ingest_url({}) == "http://127.0.0.1:3001/healthz"
    assert check.ingest_url({"LOGAGG_INGEST_PORT": "8080"}) == "http://127.0.0.1:8080/healthz"
    assert check.worker_registered(["a", "pod-1", None], "pod-1")
    assert not check.worker_registered(["pod-2", None], "pod-1")
    assert check.main(["nonsense"]) == 2


def test_health_check_of_a_worker_fails_when_redis_is_unreachable() -> None:
    # port 1 on loopback: nothing listens; the unit-test guard refuses the socket anyway
    assert healthcheck().check_worker({"REDIS_URL": "redis://127.0.0.1:1/0"}) is False


def test_generated_env_replaces_every_placeholder() -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_env", REPO / "deploy" / "generate_env.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    example = (REPO / ".env.example").read_text()
    assert "CHANGE-ME" in example
    filled = module.fill_placeholders(example)
    values = dict(
        line.split("=", 1) for line in filled.splitlines() if "=" in line and line[0] != "#"
    )
    assert "CHANGE-ME" not in values.values()
    assert len(values["LOGAGG_JWT_SECRET"]) >= 32
    assert len(values["LOGAGG_ADMIN_PASSWORD"]) >= 12
    assert len(values["AWS_ACCESS_KEY_ID"]) == 20
    assert values["LOGAGG_JWT_SECRET"] != values["ELASTIC_PASSWORD"]
    assert values["S3_BUCKET"] == "logagg-archive"
