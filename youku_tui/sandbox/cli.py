"""``youku-tui sandbox``: serve the local Youku API and OSS endpoint until stopped.

The banner goes to stderr; with ``--print-env`` the ``export`` lines go to stdout first, and
stdout is then closed, so ``eval "$(youku-tui sandbox --print-env &)"`` returns as soon as
the server listens (and leaves it running), and reading the first lines from a pipe works.
Tokens are printed by ``--print-env`` only: that is its job.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from youku_tui import paths
from youku_tui.sandbox.faults import FaultPlan, FaultSpecError
from youku_tui.sandbox.store import StateFileError, clear_data_dir

if TYPE_CHECKING:
    from youku_tui.sandbox.server import Sandbox


def add_sandbox_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox",
        help="run a local Youku API + OSS server (no account or network needed)",
        description=(
            "Serve a local stand-in for the Youku upload API and Aliyun OSS on loopback. "
            "Real oss2 / alibabacloud-oss-v2 clients work against it unchanged."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0 = pick a free one)")
    parser.add_argument(
        "--data", type=Path, default=None, help="data folder (default: the XDG data dir)"
    )
    parser.add_argument(
        "--sts-ttl", type=float, default=3600.0, help="STS credential lifetime, seconds"
    )
    parser.add_argument(
        "--token-ttl", type=float, default=86400.0, help="access token lifetime, seconds"
    )
    parser.add_argument(
        "--faults",
        default="",
        help=(
            "fault rules ROUTE=ACTION[@RATE][#COUNT],... e.g. 'oss.upload_part=503@0.1' or "
            "'oss.*=bandwidth:2MB' (2 MiB/s per connection)"
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault decisions")
    modes = parser.add_argument_group("production paths (off by default, usable together)")
    modes.add_argument(
        "--tls",
        action="store_true",
        help="HTTPS with a CA made in the data folder; OSS endpoints without a scheme",
    )
    modes.add_argument(
        "--oss-host",
        default="",
        metavar="NAME",
        help="virtual-hosted buckets: endpoint NAME, bucket.NAME (both must reach this host)",
    )
    modes.add_argument(
        "--region",
        default="",
        help="V4 requests must sign for this region (e.g. cn-sandbox), as OSS checks",
    )
    modes.add_argument(
        "--no-v1", action="store_true", help="refuse V1 signatures, as OSS does for new buckets"
    )
    modes.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="run the server clock this far ahead (negative: behind); OSS allows 15 min",
    )
    modes.add_argument(
        "--strict-policy",
        action="store_true",
        help="STS grants allow PutObject and multipart uploads only (no ListParts, Head...)",
    )
    modes.add_argument(
        "--urlencoded-errors",
        action="store_true",
        help="send API errors as url-encoded text instead of JSON",
    )
    modes.add_argument(
        "--commit-once",
        action="store_true",
        help="answer a repeated commit with 120010151 (session gone), not the video_id",
    )
    parser.add_argument(
        "--clear",
        action="store_true",
        help="delete the data folder's stored objects, uploads and state, then exit "
        "(refused while a sandbox serves it)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="give up a request body that sends nothing for this long (default 60)",
    )
    parser.add_argument(
        "--print-env",
        action="store_true",
        help="print `export YOUKU_...=...` lines for clients to stdout first",
    )
    parser.set_defaults(handler=run_sandbox_command)
    return parser


def env_lines(env: dict[str, str]) -> str:
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def run_sandbox_command(args: argparse.Namespace) -> int:
    try:
        FaultPlan(args.faults, args.seed)
    except FaultSpecError as exc:
        print(f"youku-tui sandbox: {exc}", file=sys.stderr)
        return 2
    data_dir: Path = args.data if args.data is not None else paths.sandbox_data_dir()
    if args.clear:
        try:
            freed = clear_data_dir(data_dir)
        except StateFileError as exc:
            print(f"youku-tui sandbox: {exc}", file=sys.stderr)
            return 1
        print(f"youku-tui sandbox: cleared {data_dir} ({freed / 1024**2:.1f} MiB freed)")
        return 0
    from youku_tui.sandbox.server import Sandbox  # loads aiohttp: only when serving (not --clear)

    sandbox = Sandbox(
        data_dir,
        host=args.host,
        port=args.port,
        sts_ttl=args.sts_ttl,
        token_ttl=args.token_ttl,
        faults=args.faults,
        seed=args.seed,
        tls=args.tls,
        oss_host=args.oss_host,
        region=args.region,
        refuse_v1=args.no_v1,
        clock_offset=args.clock_offset,
        strict_policy=args.strict_policy,
        urlencoded_errors=args.urlencoded_errors,
        commit_once=args.commit_once,
        body_timeout=args.body_timeout,
    )
    try:
        asyncio.run(_serve(sandbox, print_env=args.print_env))
    except KeyboardInterrupt:
        pass
    except StateFileError as exc:
        print(f"youku-tui sandbox: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(
            f"youku-tui sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 1
    return 0


async def _serve(sandbox: Sandbox, *, print_env: bool) -> None:
    await sandbox.start()
    try:
        if print_env:
            sys.stdout.write(env_lines(sandbox.env()))
            sys.stdout.flush()
            # Close stdout so `eval "$(youku-tui sandbox --print-env &)"` gets its EOF and
            # returns while the server keeps running in the background.
            _detach_stdout()
        _banner(sandbox)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("youku-tui sandbox: stopping", file=sys.stderr)
    finally:
        await sandbox.stop()


def _detach_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (embedded use): nothing to release
    finally:
        os.close(devnull)


def _banner(sandbox: Sandbox) -> None:
    faults = f"\n  faults:    {sandbox.faults.spec}" if sandbox.faults.spec else ""
    if sandbox.ca_file is not None:
        faults += f"\n  CA:        {sandbox.ca_file} (trust it: YOUKU_CA_BUNDLE or ca_bundle)"
    print(
        f"youku-tui sandbox listening on {sandbox.api_base}\n"
        f"  Youku API: {sandbox.api_base}/uploads/*.json, {sandbox.api_base}/oauth2/token.json\n"
        f"  OSS:       {sandbox.oss_endpoint} (bucket from uploads/create)\n"
        f"  videos:    {sandbox.api_base}/sandbox/videos.json\n"
        f"  data:      {sandbox.data_dir}{faults}\n"
        '  Use it: eval "$(youku-tui sandbox --print-env &)" in a shell, then\n'
        "  `youku-tui upload FILE`; or `youku-tui --sandbox` alone. Stop with Ctrl-C.",
        file=sys.stderr,
        flush=True,
    )
