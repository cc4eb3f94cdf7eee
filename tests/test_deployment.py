"""The deployment files and the import rule that keeps the layers apart."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid_and_waits_for_healthy_services() -> None:
    if shutil.which("docker-compose") is None:
        unavailable("docker-compose", "not installed (apt-get install docker-compose)")
    done = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = (ROOT / "docker-compose.yml").read_text()
    for service in ("postgres:", "redis:", "api:", "worker:", "beat:"):
        assert f"\n  {service}" in text
    assert text.count("condition: service_healthy") >= 6
    assert text.count("healthcheck:") >= 4


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_imports_flow_workers_to_services_to_classifiers_only() -> None:
    forbidden = {"services": {"workers"}, "classifiers": {"services", "workers"}}
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(_imports(path) & banned)}"
        for package, banned in forbidden.items()
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & banned
    ]
    assert offenders == []


def test_classifiers_do_no_io() -> None:
    io_modules = {"requests", "sqlalchemy", "sqlmodel", "redis", "celery", "fastapi", "socket"}
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "classifiers").rglob("*.py")
        if _imports(path) & io_modules
    ]
    assert offenders == []
