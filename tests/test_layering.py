"""The engine, the API client, the sandbox, the service and the headless CLI never import
Textual (or rich): every module of theirs is imported, so a new one is covered too."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import importlib, pkgutil, sys
import youku_tui
headless = ("api", "engine", "sandbox", "cli", "service")
for info in pkgutil.walk_packages(youku_tui.__path__, "youku_tui."):
    part = info.name.split(".")[1]
    if part in headless or not info.ispkg and part not in ("tui",):
        if info.name != "youku_tui.__main__":
            importlib.import_module(info.name)
import youku_tui.runtime
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))
print(','.join(bad))
"""


def test_engine_api_and_cli_do_not_import_textual() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_cli_parser_stays_light() -> None:
    """Building the subcommand parsers must not pull in the engine's heavy dependencies."""
    code = (
        "import sys, argparse\n"
        "from youku_tui.cli import commands\n"
        "p = argparse.ArgumentParser(); sub = p.add_subparsers()\n"
        "for f in (commands.add_upload_parser, commands.add_resume_parser,\n"
        "          commands.add_list_parser, commands.add_login_parser): f(sub)\n"
        "from youku_tui.cli.main import build_parser; build_parser()\n"
        "print(','.join(sorted(m for m in ('oss2', 'httpx', 'textual', 'requests', 'aiohttp')"
        " if m in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
