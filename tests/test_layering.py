"""Import rules between the packages, read from the source with the ast module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
QT_PACKAGES = ("PySide6", "PyQt5", "PyQt6", "shiboken6")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["terminal", "drivers", "server"])
def test_core_packages_never_import_qt(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _sources(package)
        for module in _imported_modules(path)
        if module.split(".")[0] in QT_PACKAGES
    ]
    assert offenders == []


@pytest.mark.parametrize("package", ["terminal", "drivers"])
def test_counter_packages_never_import_ui(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _sources(package)
        for module in _imported_modules(path)
        if module.split(".")[0] == "ui" and path.name != "cli.py"
    ]
    assert offenders == []


def test_drivers_never_import_terminal() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _sources("drivers")
        for module in _imported_modules(path)
        if module.split(".")[0] in ("terminal", "server")
    ]
    assert offenders == []


def test_only_demo_screens_import_server() -> None:
    allowed = {"demo.py", "phone.py", "demo_tour.py"}
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _sources("ui")
        for module in _imported_modules(path)
        if module.split(".")[0] == "server" and path.name not in allowed
    ]
    assert offenders == []
