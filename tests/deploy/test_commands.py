"""Every `logagg` command the deployment files run is one the code accepts."""

from __future__ import annotations

import shlex
import subprocess
import sys
from typing import Any

import pytest

from .conftest import KUBE, render

PROJECT_IMAGE = "logagg"


def logagg_commands(argv: list[str]) -> list[list[str]]:
    """The `logagg` invocations in a container's argv (the image's entrypoint is `logagg`)."""
    if argv[:2] == ["/bin/sh", "-c"]:
        script = " ".join(argv[2:])
        commands = [shlex.split(part) for part in script.split("&&")]
        return [words[1:] for words in commands if words and words[0] == "logagg"]
    return [argv]


def kube_commands() -> list[list[str]]:
    found = []
    for obj in render(KUBE / "base"):
        if obj["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        for container in obj["spec"]["template"]["spec"]["containers"]:
            if container["image"].split(":")[0] == PROJECT_IMAGE:
                found += logagg_commands(container.get("command", []) + container["args"])
    return found


def compose_commands(project: dict[str, Any]) -> list[list[str]]:
    found = []
    for service in project["services"].values():
        if service["image"].split(":")[0] == PROJECT_IMAGE:
            found += logagg_commands((service.get("entrypoint") or []) + service["command"])
    return found


def accepted(words: list[str]) -> subprocess.CompletedProcess[str]:
    # argparse checks the positional choices before it acts on --help
    return subprocess.run(
        [sys.executable, "-m", "logagg.cli", *words, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_files_run_every_service(compose_project: dict[str, Any]) -> None:
    expected = [
        ["ingest"],
        ["parser"],
        ["shipper", "es"],
        ["shipper", "s3"],
        ["shipper", "install-templates"],
        ["kibana", "import", "--wait"],
    ]
    for commands in (kube_commands(), compose_commands(compose_project)):
        prefixes = [words[: len(e)] for words in commands for e in expected]
        for command in expected:
            assert command in prefixes, command


@pytest.mark.parametrize("source", ["kube", "compose"])
def test_every_command_is_accepted(source: str, compose_project: dict[str, Any]) -> None:
    commands = kube_commands() if source == "kube" else compose_commands(compose_project)
    assert commands
    for words in commands:
        result = accepted(words)
        assert result.returncode == 0, f"logagg {' '.join(words)}: {result.stderr}"


def test_an_unknown_command_is_refused() -> None:
    assert accepted(["shipper", "install-everything"]).returncode != 0


def test_the_optional_dashboard_command_is_accepted(
    compose_project_with_dashboard: dict[str, Any],
) -> None:
    dashboard = compose_project_with_dashboard["services"]["rq-dashboard"]
    overlay = [
        container["args"]
        for obj in render(KUBE / "overlays" / "example")
        if obj["kind"] == "Deployment" and obj["metadata"]["name"] == "rq-dashboard"
        for container in obj["spec"]["template"]["spec"]["containers"]
    ]
    assert overlay == [dashboard["command"]] == [["dashboard"]]
    result = accepted(["dashboard"])
    assert result.returncode == 0, result.stderr
    assert "rq-dashboard" in result.stdout
