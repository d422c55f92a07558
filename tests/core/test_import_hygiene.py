"""core/ stays free of the UI and the command line, cli/ of the UI: in a fresh interpreter and by import-linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> list[str]:
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__main__.py"
    )


CORE_MODULES = _modules("core")
CLI_MODULES = _modules("cli")


def test_core_modules_are_found() -> None:
    assert "core.model" in CORE_MODULES and "core.azure.backend" in CORE_MODULES


def _loaded_by(modules: list[str], forbidden: tuple[str, ...]) -> str:
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name.removesuffix('.__init__'))\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_all_of_core_loads_no_ui_library_and_no_command_line() -> None:
    bad = _loaded_by(CORE_MODULES, ("textual", "rich", "tui", "cli"))
    assert bad == "", f"core pulled in: {bad}"


def test_importing_all_of_the_command_line_loads_no_ui_library() -> None:
    assert "cli.main" in CLI_MODULES and "cli.completion" in CLI_MODULES
    bad = _loaded_by(CLI_MODULES, ("textual", "rich", "tui"))
    assert bad == "", f"cli pulled in: {bad}"


def test_no_module_of_the_command_line_is_over_400_lines() -> None:
    sizes = {m: len((ROOT / (m.replace(".", "/") + ".py")).read_text().splitlines()) for m in CLI_MODULES}
    assert max(sizes.values()) <= 400, {m: n for m, n in sizes.items() if n > 400}


def test_core_holds_no_command_line_code() -> None:
    found = [p for p in (ROOT / "core").rglob("*.py") if "argparse" in p.read_text() and "add_parser" in p.read_text()]
    assert found == []


def test_import_linter_contract_holds() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter's lint-imports is not installed in this environment (uv sync installs it)")
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "core stays free of the UI KEPT" in result.stdout
    assert "the command line never imports the dashboard or a terminal UI library KEPT" in result.stdout
