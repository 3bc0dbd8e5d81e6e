"""``youku-tui service run|start|stop|status|install``: the per-user service that owns uploads.

Parsers are built at every start, so this module imports only argparse at the top.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_RUNNING = 3  # `service status` when none runs, as `systemctl is-active` says


def add_service_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "service",
        help="the per-user service that runs the uploads (start, stop, status, ...)",
        description="The service owns the uploads of a state folder: they go on when the "
        "terminal closes, and the TUI and the CLI attach to it.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (
        ("run", "run in the foreground (for systemd and tests)"),
        ("start", "start in the background, detached from this terminal"),
        ("stop", "pause every upload (checkpoints saved), then exit"),
        ("status", "is it running, and what it runs"),
        ("install", "write a systemd user unit that runs `youku-tui service run`"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument(
            "--sandbox",
            action="store_true",
            help="the sandbox's service (its own socket, state and embedded sandbox)",
        )
        if name == "status":
            action.add_argument("--json", action="store_true", help="one JSON object")
        if name == "run":
            action.add_argument(
                "--idle-exit",
                type=float,
                metavar="SECONDS",
                help="exit after this long with nothing queued and no client attached "
                "(default: [service] idle_exit; 0 never)",
            )
        action.set_defaults(handler=run_service_command)


def run_service_command(args: argparse.Namespace) -> int:
    from youku_tui.errors import YoukuTuiError

    try:
        handler = {
            "run": _run,
            "start": _start,
            "stop": _stop,
            "status": _status,
            "install": _install,
        }[args.action]
        return handler(args)
    except YoukuTuiError as exc:
        print(f"youku-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    from youku_tui.service.daemon import run_service

    if args.idle_exit is not None and args.idle_exit < 0:
        print("youku-tui: --idle-exit must be 0 (never) or more seconds", file=sys.stderr)
        return EXIT_USAGE
    return run_service(args.sandbox, args.idle_exit)


def _start(args: argparse.Namespace) -> int:
    from youku_tui import paths
    from youku_tui.service.daemon import start_service

    pid, started = start_service(args.sandbox)
    what = "started" if started else "already running"
    print(f"youku-tui service {what} (pid {pid}); log: {paths.service_log(args.sandbox)}")
    return EXIT_OK


def _stop(args: argparse.Namespace) -> int:
    from youku_tui.service.daemon import stop_service

    pid = stop_service(args.sandbox)
    if pid is None:
        print("youku-tui: no service is running", file=sys.stderr)
        return EXIT_OK
    print(f"youku-tui service (pid {pid}) stopped; uploads paused, checkpoints saved")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    import json

    from youku_tui.service.daemon import status_record
    from youku_tui.units import format_size

    record = status_record(args.sandbox)
    if args.json:
        print(json.dumps(record or {"running": False}))
        return EXIT_OK if record else EXIT_NOT_RUNNING
    if record is None:
        print("youku-tui service: not running (`youku-tui service start`)")
        return EXIT_NOT_RUNNING
    limits = record["limits"]
    cap = f"{format_size(limits['bandwidth'])}/s" if limits["bandwidth"] else "none"
    counts = ", ".join(f"{n} {state}" for state, n in sorted(record["uploads"].items()))
    print(f"youku-tui service: running, pid {record['pid']}")
    print(f"  uploads: {counts or 'none'}")
    print(f"  limits:  {limits['max_uploads']} at once, cap {cap}")
    print(f"  socket:  {record['socket']}")
    print(f"  log:     {record['log']}")
    if record["login_blocked"]:
        print("  waiting for a new login: `youku-tui login`")
    return EXIT_OK


def _install(args: argparse.Namespace) -> int:
    from youku_tui.service.systemd import install_unit

    path, name = install_unit(args.sandbox)
    print(f"wrote {path}")
    print("enable it (starts now and at every login):")
    print("  systemctl --user daemon-reload")
    print(f"  systemctl --user enable --now {name}")
    print("on a server that ends your processes at logout, keep it running with:")
    print("  loginctl enable-linger $USER")
    return EXIT_OK
