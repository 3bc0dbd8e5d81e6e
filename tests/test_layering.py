"""The layering of docs/architecture.md, checked on the project's own import statements.

The rules are import-linter contracts in pyproject.toml (``[tool.importlinter]``). import-linter
builds its graph from the import statements in ``youku_tui/`` (grimp), so what a dependency
imports in turn (httpx brings rich whenever click is installed) can neither pass nor fail them.
CI runs ``lint-imports``; the test below makes the README's plain ``python -m pytest`` enforce
the same contracts.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# import-linter's Python API, run from the repository root (it puts the working folder first
# on sys.path, so the graph is built from this checkout's youku_tui/, not an installed copy).
LINT = (
    "from importlinter.cli import lint_imports\n"
    "raise SystemExit(lint_imports(no_cache=True, no_logo=True))\n"
)


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [sys.executable, "-c", LINT], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _layer_modules() -> list[str]:
    """Every module the exhaustive layers contract places (each top-level part of youku_tui)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = (c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers")
    return [name.strip() for line in layers["layers"] for name in re.split(r"[|:]", line)]


def _parts_in_doc_table() -> set[str]:
    """The parts the table of docs/architecture.md names (`youku_tui/api/`, `config.py`...)."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    first_cells = [row.split("|")[1] for row in rows]
    names = re.findall(r"`(?:youku_tui/)?(\w+)(?:\.py|/)`", "".join(first_cells))
    return set(names)


def test_architecture_doc_names_every_part() -> None:
    """The doc's table lists every part the contracts place, so the two cannot drift apart."""
    in_doc = _parts_in_doc_table()
    assert [name for name in _layer_modules() if name not in in_doc] == []


def test_cli_parser_stays_light() -> None:
    """Building the parsers loads none of the heavy libraries: each command imports what it
    needs when it runs, and the TUI is imported inside ``main()`` only (the one import of the
    TUI outside youku_tui/tui/, which the layers contract lists as ignored)."""
    code = (
        "import sys, argparse\n"
        "from youku_tui.cli import commands\n"
        "p = argparse.ArgumentParser(); sub = p.add_subparsers()\n"
        "for f in (commands.add_upload_parser, commands.add_resume_parser,\n"
        "          commands.add_list_parser, commands.add_login_parser): f(sub)\n"
        "from youku_tui.cli.main import build_parser, build_tui_parser\n"
        "build_parser(); build_tui_parser()\n"
        "print(','.join(sorted(m for m in ('oss2', 'httpx', 'textual', 'requests', 'aiohttp')"
        " if m in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
