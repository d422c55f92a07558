"""Every example of the README's command-line section runs against the demo vault as written."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest

from cli.main import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _examples() -> list[tuple[str, int]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The command line\n", 1)[1].split("\n## ", 1)[0]
    found = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                expected = re.search(r"#\s*exits (\d+)", line)
                found.append((line[2:], int(expected.group(1)) if expected else 0))
    return found


EXAMPLES = _examples()


def test_the_readme_shows_each_output_format() -> None:
    commands = " ".join(command for command, _ in EXAMPLES)
    assert len(EXAMPLES) >= 10
    for needle in ("-o table", "-o json --query", "-o tsv", "-o yaml", "--only-show-errors"):
        assert needle in commands


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_example_runs(command: str, expected: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    argv = shlex.split(command, comments=True)
    assert argv[0] == "avs-failback" and "--demo" in argv
    out, err = io.StringIO(), io.StringIO()
    code = main(argv[1:], stdout=out, stderr=err)
    assert code == expected, err.getvalue()
    assert "Traceback" not in err.getvalue()
    if expected == 0 and "-o" in argv and argv[argv.index("-o") + 1] not in ("none",) and "capture" not in argv:
        assert out.getvalue().strip(), "an example that succeeds prints something"
    if "capture" in argv:
        assert (tmp_path / argv[argv.index("-o") + 1]).exists()
