"""``youku-tui``: the TUI by default, headless subcommands for scripts.

Each subcommand's module is imported only when it runs, so ``youku-tui upload`` and friends
start without loading Textual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from youku_tui import __version__

SUBCOMMANDS = (
    "upload",
    "status",
    "list",
    "resume",
    "retry",
    "cancel",
    "remove",
    "clear",
    "login",
    "service",
    "sandbox",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="youku-tui",
        description="Upload videos to Youku from a terminal. With no subcommand, opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"youku-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from youku_tui.cli import commands

    commands.add_upload_parser(sub)
    commands.add_status_parser(sub)
    commands.add_list_parser(sub)
    commands.add_resume_parser(sub)
    commands.add_retry_parser(sub)
    commands.add_cancel_parser(sub)
    commands.add_remove_parser(sub)
    commands.add_clear_parser(sub)
    commands.add_login_parser(sub)
    from youku_tui.cli import service_cmd

    service_cmd.add_service_parser(sub)
    from youku_tui.sandbox import cli as sandbox_cli

    sandbox_cli.add_sandbox_parser(sub)
    return parser


def build_tui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="youku-tui",
        description=(
            "Upload videos to Youku from a terminal. Subcommands: "
            + ", ".join(SUBCOMMANDS)
            + " (see `youku-tui COMMAND --help`)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"youku-tui {__version__}")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="start the local sandbox in-process and upload to it (no account needed)",
    )
    parser.add_argument(
        "--start",
        action="store_true",
        help="queue the FILES at once with the [defaults] metadata of the config (no form)",
    )
    parser.add_argument(
        "--no-service",
        action="store_true",
        help="run the uploads in this process instead of the per-user service "
        "(they pause when the app quits)",
    )
    parser.add_argument("paths", nargs="*", help="a folder to browse or files to pick")
    return parser


def _never_crash_on_output() -> None:
    """A name with bytes that are not UTF-8, or a terminal whose encoding lacks a character,
    shows an escape instead of stopping the command with a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    _never_crash_on_output()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in SUBCOMMANDS:
        args = build_parser().parse_args(args_list)
        handler = args.handler
        result: int = handler(args)
        return result
    tui_args = build_tui_parser().parse_args(args_list)
    from youku_tui.tui.launch import leave, run_tui

    return leave(
        run_tui(
            paths=tui_args.paths,
            sandbox=tui_args.sandbox,
            start=tui_args.start,
            no_service=tui_args.no_service,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
