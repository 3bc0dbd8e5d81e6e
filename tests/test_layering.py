"""The engine, the API client and the headless CLI never import Textual (or rich)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import youku_tui.api.client, youku_tui.api.models, youku_tui.api.codes, youku_tui.api.retry
import youku_tui.engine.manager, youku_tui.engine.job, youku_tui.engine.transfer
import youku_tui.engine.checkpoint, youku_tui.engine.hashing, youku_tui.engine.parts
import youku_tui.engine.limits, youku_tui.engine.states, youku_tui.engine.events
import youku_tui.runtime, youku_tui.cli.commands, youku_tui.cli.progress
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
        "print(','.join(sorted(m for m in ('oss2', 'httpx', 'textual', 'requests')"
        " if m in sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
