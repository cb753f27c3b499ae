"""Every package folder is declared, so a wheel (the image) holds what an editable install does."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for package, folder in config["package-dir"].items():
        root = REPO / folder
        for init in root.rglob("__init__.py"):
            relative = init.parent.relative_to(root)
            found.add(".".join([package, *relative.parts]))
    # services map to their own roots; the shared root also sees them only by mapping
    assert found - listed == set()
    assert listed - found <= {"logagg"}  # the namespace itself has no __init__.py


def test_services_never_import_each_other() -> None:
    services = ("ingest", "parser", "shipper")
    offenders = []
    for service in services:
        others = [s for s in services if s != service]
        for path in (REPO / "services" / service).rglob("*.py"):
            text = path.read_text()
            offenders += [
                f"{path.relative_to(REPO)} imports logagg.{other}"
                for other in others
                if f"logagg.{other}" in text
            ]
    assert offenders == []


def test_shared_library_never_imports_a_service_at_module_level() -> None:
    offenders = []
    for path in (REPO / "shared" / "logagg").rglob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import logagg.", "from logagg.")) and any(
                f"logagg.{s}" in stripped for s in ("ingest", "parser", "shipper")
            ):
                offenders.append(f"{path.relative_to(REPO)}: {stripped}")
    assert offenders == []
