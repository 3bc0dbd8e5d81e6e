"""Headless subcommands: ``upload``, ``resume``, ``retry``, ``list``, ``cancel``, ``login``.

The parsers are built at every start, so this module imports only argparse at the top; each
handler imports the engine (httpx, oss2) when it runs. Errors print as one line, never a
traceback: a :class:`YoukuTuiError` is the user's to fix; anything else is a bug, logged with
its traceback to the log file the message points at.

Exit codes: 0 every file committed; 1 some upload failed or was cancelled; 2 bad input or
configuration (nothing sent); 130 / 143 stopped by Ctrl-C / SIGTERM (checkpoints saved,
``youku-tui resume`` continues); 3 an unexpected error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from youku_tui.cli.progress import JsonLines, TerminalBoard
    from youku_tui.config import Config, MetadataDefaults
    from youku_tui.engine.manager import CheckpointProblem, UploadEngine
    from youku_tui.metadata import VideoMetadata

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

log = logging.getLogger("youku_tui.cli")


# --- parsers ----------------------------------------------------------------------------------


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run the local sandbox in-process and upload to it (no account needed)",
    )


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=int, metavar="N", help="uploads at once")
    parser.add_argument(
        "--parts",
        type=int,
        metavar="N",
        help="parts in flight, all uploads (0 = adapt to the path)",
    )
    parser.add_argument(
        "--bandwidth",
        type=_parse_size,
        metavar="RATE",
        help="cap on bytes per second for all uploads, e.g. 5MB = 5 MiB/s (0 = no cap)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json",
        action="store_true",
        help="one JSON object a line per event; the last one per file has its video_id",
    )
    output.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print no progress (errors still go to stderr; the exit code tells the outcome)",
    )


def add_upload_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "upload",
        help="upload video files and wait until they are committed",
        description="Upload video files to Youku. A title may use {stem}, {name}, {index}, "
        "{date}. Exit 0 only when every file is committed.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--preset",
        metavar="NAME",
        help="start from a [presets.NAME] of the config (the TUI's form saves them) instead "
        "of [defaults]; the options below still win",
    )
    parser.add_argument("--title", help="title or template (default from the config: {stem})")
    parser.add_argument("--tags", help="comma-separated, 1 to 10 tags of 2 to 12 characters")
    parser.add_argument("--description", help="up to 2,000 characters")
    parser.add_argument("--category", help="Youku category (default Other)")
    parser.add_argument("--public-type", choices=("all", "friend", "password"))
    _add_password_options(parser, "watch password for --public-type password")
    parser.add_argument("--copyright-type", choices=("original", "reproduced"))
    parser.add_argument(
        "--part-size", type=_parse_size, metavar="SIZE", help="OSS part size, e.g. 16MB"
    )
    _add_engine_options(parser)
    _add_common(parser)
    parser.set_defaults(handler=run_upload)


def add_resume_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "resume",
        help="resume every paused or interrupted upload (failed ones stay failed: `retry`)",
        description="Resume every paused or interrupted upload. Failed uploads are left "
        "alone and listed: `youku-tui retry ID` tries one again, `youku-tui cancel ID` "
        "gives it up. Exit 0 when every upload it resumed was committed.",
    )
    _add_password_options(
        parser, "watch password, for password-protected uploads that still have to be created"
    )
    _add_engine_options(parser)
    _add_common(parser)
    parser.set_defaults(handler=run_resume)


def add_retry_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "retry",
        help="try failed uploads again, by id (a unique prefix will do)",
        description="Retry failed uploads shown by `youku-tui list`. Each continues from "
        "its checkpoint. Exit 0 when every one was committed.",
    )
    parser.add_argument("upload_ids", nargs="+", metavar="ID")
    _add_password_options(
        parser, "watch password, for password-protected uploads that still have to be created"
    )
    _add_engine_options(parser)
    _add_common(parser)
    parser.set_defaults(handler=run_retry)


def add_list_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("list", help="show unfinished uploads")
    parser.add_argument("--all", action="store_true", help="also show done and cancelled ones")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    _add_common(parser)
    parser.set_defaults(handler=run_list)


def add_cancel_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "cancel",
        help="cancel unfinished uploads by id or unique prefix (aborts their OSS upload)",
        description="Cancel uploads shown by `youku-tui list`. What was sent to OSS is "
        "aborted; the checkpoint is kept, marked cancelled.",
    )
    parser.add_argument("upload_ids", nargs="+", metavar="ID")
    _add_common(parser)
    parser.set_defaults(handler=run_cancel)


def add_login_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "login",
        help="store your Youku client id and tokens (asked for when not given)",
        description="Youku hands out tokens on its developer site; paste them here. Tokens "
        "are read without echo and saved to the config file with mode 0600.",
    )
    parser.add_argument("--client-id")
    parser.add_argument("--access-token", help="prefer the prompt: options show up in `ps`")
    parser.add_argument("--refresh-token", help="prefer the prompt: options show up in `ps`")
    parser.add_argument("--api-base", help="API address (https, or http on loopback)")
    parser.set_defaults(handler=run_login)


PASSWORD_ENV = "YOUKU_WATCH_PASSWORD"


def _add_password_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--password",
        help=f"{what}. Visible to other users in `ps` and kept in shell history: prefer the "
        f"prompt (asked for when missing, on a terminal), ${PASSWORD_ENV} or --password-file",
    )
    parser.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="read the watch password from the first line of FILE",
    )


def _watch_password(args: argparse.Namespace) -> str:
    """--password, else --password-file, else $YOUKU_WATCH_PASSWORD ("" when none)."""
    import os

    from youku_tui.errors import LocalFileError

    if args.password:
        return str(args.password)
    if args.password_file is not None:
        try:
            lines = args.password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise LocalFileError(f"cannot read --password-file: {exc}") from exc
        return lines[0].strip() if lines else ""
    return os.environ.get(PASSWORD_ENV, "")


def _parse_size(text: str) -> int:
    from youku_tui.units import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# --- shared plumbing ----------------------------------------------------------------------


def _setup_logging() -> Path | None:
    """Log to the log file (never to the terminal, which shows the progress)."""
    from youku_tui import paths

    log_path = paths.log_file()
    root = logging.getLogger()
    if any(getattr(h, "_youku_tui", False) for h in root.handlers):
        return log_path
    from youku_tui.logfile import open_log_handler

    handler = open_log_handler(log_path)  # 0600; quiet on a full disk
    if handler is None:
        return None
    handler._youku_tui = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # oss2 logs request headers (the STS token among them) at DEBUG, and chats at INFO.
    for noisy in ("oss2", "urllib3", "httpx", "httpcore", "requests"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_path


def _guard(action: Callable[[], int]) -> int:
    """Run a command: one clear line for any error, never a traceback."""
    from youku_tui.errors import YoukuTuiError
    from youku_tui.textsafe import safe_text

    log_path = _setup_logging()
    try:
        return action()
    except YoukuTuiError as exc:
        print(f"youku-tui: {safe_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("youku-tui: interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except Exception as exc:
        log.exception("unexpected error")
        where = f"; details in {log_path}" if log_path else ""
        shown = safe_text(f"unexpected error: {type(exc).__name__}: {exc}{where}")
        print(f"youku-tui: {shown}", file=sys.stderr)
        return EXIT_BUG


def _make_sink(args: argparse.Namespace) -> JsonLines | TerminalBoard:
    import shutil

    from youku_tui.cli.progress import JsonLines, TerminalBoard

    if args.json:
        return JsonLines(sys.stdout)
    return TerminalBoard(
        sys.stdout,
        tty=sys.stdout.isatty(),
        width=shutil.get_terminal_size().columns,
        quiet=getattr(args, "quiet", False),
        bandwidth=args.bandwidth or 0,
    )


class _Stopper:
    """SIGINT / SIGTERM: pause every upload (checkpoints saved) and remember which.

    The handlers stay until the command returns, so a second Ctrl-C while the pause is on its
    way only says so: it never lands in the middle of the clean-up as a KeyboardInterrupt.
    """

    def __init__(self, engine: UploadEngine) -> None:
        self.engine = engine
        self.signal: int | None = None

    def __enter__(self) -> _Stopper:
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop, sig)
        return self

    def __exit__(self, *exc: object) -> None:
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
            # From here to the exit only clean-up runs: a late Ctrl-C waits for it.
            signal.signal(sig, signal.SIG_IGN)

    def _stop(self, sig: int) -> None:
        if self.signal is None:
            self.signal = sig
            self.engine.pause_all()
        else:  # a second Ctrl-C: the pause is already on its way; say so
            print("youku-tui: pausing, saving checkpoints...", file=sys.stderr)

    @property
    def exit_code(self) -> int | None:
        import signal

        if self.signal is None:
            return None
        return EXIT_SIGTERM if self.signal == signal.SIGTERM else EXIT_SIGINT


async def _drive(
    engine: UploadEngine,
    sink: JsonLines | TerminalBoard,
    enqueue: Callable[[UploadEngine], list[str]],
    args: argparse.Namespace,
) -> int:
    """Run the engine until nothing is queued or running; report per file; the exit code."""
    from youku_tui.cli.progress import JsonLines
    from youku_tui.engine.states import UploadState

    with _Stopper(engine) as stopper:
        async with engine:
            if args.jobs or args.parts is not None or args.bandwidth is not None:
                engine.set_limits(
                    max_uploads=args.jobs, max_parts=args.parts, bandwidth=args.bandwidth
                )
            ids = enqueue(engine)
            if ids:
                await engine.wait_idle()
    sink.close()
    if not ids:
        return EXIT_OK
    wanted = set(ids)
    snaps = [s for s in engine.snapshots() if s.upload_id in wanted]
    for snap in snaps:
        if isinstance(sink, JsonLines):
            sink.write(
                {
                    "event": "result",
                    "upload_id": snap.upload_id,
                    "path": snap.path,
                    "title": snap.title,
                    "state": str(snap.state),
                    "video_id": snap.video_id,
                    "error": snap.last_error,
                    "code": snap.last_error_code,
                }
            )
    if stopper.exit_code is not None:
        print(
            "youku-tui: paused; checkpoints saved - run `youku-tui resume` to continue",
            file=sys.stderr,
        )
        return stopper.exit_code
    done = sum(1 for s in snaps if s.state is UploadState.DONE)
    if not isinstance(sink, JsonLines) and not getattr(args, "quiet", False):
        print(f"{done} of {len(snaps)} file(s) committed")
    return EXIT_OK if done == len(snaps) else EXIT_FAILED


def _run_async(coro_factory: Callable[[], Coroutine[Any, Any, int]]) -> int:
    import asyncio

    return asyncio.run(coro_factory())


# --- upload -------------------------------------------------------------------------------


def run_upload(args: argparse.Namespace) -> int:
    def action() -> int:
        prepared = _prepare_upload(args)  # everything checked before any request
        return _run_async(lambda: _upload(args, prepared))

    return _guard(action)


def _ask_password() -> str:
    import getpass

    from youku_tui.errors import FieldProblem, MetadataError

    if not sys.stdin.isatty():
        raise MetadataError(
            [FieldProblem("watch_password", "is required with --public-type password")]
        )
    return getpass.getpass("Watch password (letters and digits): ")


def _preset(config: Config, name: str | None) -> MetadataDefaults:
    """The metadata to start from: ``[presets.NAME]`` when asked for, else ``[defaults]``."""
    from youku_tui.errors import ConfigError

    if name is None:
        return config.defaults
    try:
        return config.presets[name]
    except KeyError:
        known = ", ".join(sorted(config.presets)) or "none yet (the TUI's form saves them)"
        raise ConfigError(f"no preset {name!r} in the config; presets: {known}") from None


def _prepare_upload(args: argparse.Namespace) -> tuple[Config, list[tuple[Path, VideoMetadata]]]:
    """Config, files and their metadata, validated; raises before anything is sent."""
    from dataclasses import replace

    from youku_tui.config import load_config
    from youku_tui.engine.manager import check_new_upload
    from youku_tui.errors import LocalFileError
    from youku_tui.metadata import (
        CopyrightType,
        PublicType,
        VideoMetadata,
        batch_metadata,
        split_tags,
    )

    config = load_config()
    defaults = _preset(config, args.preset)
    public_type = PublicType(args.public_type or defaults.public_type)
    password = _watch_password(args)
    if public_type is PublicType.PASSWORD and not password:
        password = _ask_password()
    template = VideoMetadata(
        title=args.title if args.title is not None else defaults.title,
        tags=split_tags(args.tags) if args.tags is not None else tuple(defaults.tags),
        description=args.description if args.description is not None else defaults.description,
        category=args.category or defaults.category,
        copyright_type=CopyrightType(args.copyright_type or defaults.copyright_type),
        public_type=public_type,
        watch_password=password,
    )
    files = [Path(f).expanduser().absolute() for f in args.files]
    metadata = batch_metadata(template, files)
    for path, meta in zip(files, metadata, strict=True):
        check_new_upload(path, meta)  # every file, before any is queued
    if args.part_size:
        if args.part_size < 100 * 1024:
            raise LocalFileError("--part-size must be at least 100KB (OSS's minimum)")
        config = replace(config, engine=replace(config.engine, part_size=args.part_size))
    return config, list(zip(files, metadata, strict=True))


async def _upload(
    args: argparse.Namespace, prepared: tuple[Config, list[tuple[Path, VideoMetadata]]]
) -> int:
    from youku_tui.runtime import open_runtime

    config, items = prepared
    sink = _make_sink(args)
    async with open_runtime(args.sandbox, config) as rt:
        engine = rt.make_engine(sink)

        def enqueue(engine: UploadEngine) -> list[str]:
            return [engine.add(path, meta) for path, meta in items]

        return await _drive(engine, sink, enqueue, args)


# --- resume -------------------------------------------------------------------------------


def run_resume(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _resume(args)))


async def _resume(args: argparse.Namespace) -> int:
    from youku_tui.engine.states import UploadState
    from youku_tui.runtime import open_runtime

    sink = _make_sink(args)
    async with open_runtime(args.sandbox) as rt:
        engine = rt.make_engine(sink)
        problems: list[CheckpointProblem] = []

        def enqueue(engine: UploadEngine) -> list[str]:
            problems.extend(
                engine.load_checkpoints(start=True, watch_password=_watch_password(args))
            )
            for problem in problems:
                _report_problem(sink, str(problem.path), problem.message)
            snaps = engine.snapshots()
            # Failed uploads stay failed (issue 10): listed, not retried, not counted.
            failed = [s for s in snaps if s.state is UploadState.FAILED]
            if failed:
                _note_failed(len(failed))
            ids = [s.upload_id for s in snaps if s.state is not UploadState.FAILED]
            if not ids and not problems and not failed:
                print("nothing to resume", file=sys.stderr)
            return ids

        code = await _drive(engine, sink, enqueue, args)
        # A checkpoint that could not be resumed now (corrupt, its file changed) is a failure.
        return EXIT_FAILED if problems and code == EXIT_OK else code


def _note_failed(count: int) -> None:
    print(
        f"youku-tui: {count} failed upload(s) left as they are: `youku-tui list` shows why, "
        "`youku-tui retry ID` tries one again, `youku-tui cancel ID` gives it up",
        file=sys.stderr,
    )


# --- retry --------------------------------------------------------------------------------


def run_retry(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _retry(args)))


async def _retry(args: argparse.Namespace) -> int:
    from youku_tui.engine.ids import resolve_id
    from youku_tui.engine.states import UploadState
    from youku_tui.errors import CheckpointError
    from youku_tui.runtime import open_runtime

    sink = _make_sink(args)
    async with open_runtime(args.sandbox) as rt:
        engine = rt.make_engine(sink)

        def enqueue(engine: UploadEngine) -> list[str]:
            engine.load_checkpoints(start=False, watch_password=_watch_password(args))
            snaps = {s.upload_id: s for s in engine.snapshots()}
            ids = [resolve_id(given, snaps) for given in args.upload_ids]
            for upload_id in ids:
                if snaps[upload_id].state is not UploadState.FAILED:
                    raise CheckpointError(
                        f"{upload_id} is {snaps[upload_id].state}, not failed "
                        "(`youku-tui resume` continues paused uploads)"
                    )
            for upload_id in ids:
                engine.retry(upload_id)
            return ids

        return await _drive(engine, sink, enqueue, args)


def _report_problem(sink: JsonLines | TerminalBoard, path: str, message: str) -> None:
    from youku_tui.cli.progress import JsonLines
    from youku_tui.textsafe import safe_text

    if isinstance(sink, JsonLines):
        sink.write({"event": "checkpoint_problem", "path": path, "message": message})
    else:
        print(f"youku-tui: {safe_text(message)}", file=sys.stderr)


# --- list ---------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    return _guard(lambda: _list(args))


def _list(args: argparse.Namespace) -> int:
    import json
    import shutil

    from youku_tui import paths
    from youku_tui.engine.checkpoint import CheckpointStore
    from youku_tui.engine.ids import short_id
    from youku_tui.engine.owner import current_owner
    from youku_tui.textsafe import json_safe, safe_text
    from youku_tui.textwidth import fit
    from youku_tui.units import format_size

    folder = paths.uploads_dir(args.sandbox)
    owner = current_owner(folder)  # a running youku-tui (service, TUI or CLI) owns them
    checkpoints, problems = CheckpointStore(folder).load_all()
    for problem in problems:
        print(f"youku-tui: {safe_text(problem.message)}", file=sys.stderr)
    # Queue order, as the engine runs them; uploads queued in the same run keep their order.
    checkpoints.sort(key=lambda c: (c.position, c.created_at))
    shown = [c for c in checkpoints if args.all or not c.state.is_terminal]
    width = shutil.get_terminal_size().columns - 1
    for cp in shown:
        stored = sum(p.size for p in cp.parts.values()) if cp.object_crc64 is None else cp.size
        in_use = owner is not None and not cp.state.is_terminal
        if args.json:
            record = {
                "upload_id": cp.upload_id,
                "state": str(cp.state),
                "path": str(cp.path),
                "title": cp.title,
                "size": cp.size,
                "bytes_done": stored,
                "parts_done": len(cp.parts),
                "video_id": cp.video_id,
                "error": cp.last_error,
                "in_use": in_use,
                "position": cp.position,
            }
            print(json_safe(json.dumps(record, ensure_ascii=False)))
        else:
            percent = 100 * stored / cp.size if cp.size else 0
            state = "running" if in_use else str(cp.state)
            figures = (
                f"{short_id(cp.upload_id)}  {state:<9} {percent:5.1f}% {format_size(cp.size):>10}"
            )
            line = f"{figures}  {safe_text(cp.title)}  ({safe_text(str(cp.path))})"
            print(fit(line, width).rstrip() if sys.stdout.isatty() else line)
            if cp.last_error:
                print(f"    {safe_text(cp.last_error)}")
    if not shown and not args.json:
        print("no unfinished uploads")
    return EXIT_OK


# --- cancel -------------------------------------------------------------------------------


def run_cancel(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _cancel(args)))


async def _cancel(args: argparse.Namespace) -> int:
    from youku_tui.engine.ids import resolve_id
    from youku_tui.errors import UnknownUploadError
    from youku_tui.runtime import open_runtime
    from youku_tui.textsafe import safe_text

    async with open_runtime(args.sandbox) as rt:
        engine = rt.make_engine(lambda event: None)
        async with engine:
            engine.load_checkpoints(start=False)
            known = [s.upload_id for s in engine.snapshots()]
            code = EXIT_OK
            for given in args.upload_ids:
                try:
                    upload_id = resolve_id(given, known)
                except UnknownUploadError as exc:
                    print(f"youku-tui: {safe_text(exc)}", file=sys.stderr)
                    code = EXIT_FAILED
                    continue
                await engine.cancel(upload_id)
                print(f"cancelled {upload_id}")
            return code


# --- login --------------------------------------------------------------------------------


def run_login(args: argparse.Namespace) -> int:
    return _guard(lambda: _login(args))


def _login(args: argparse.Namespace) -> int:
    import getpass
    from dataclasses import replace

    from youku_tui.config import check_api_base, load_config, update_config
    from youku_tui.errors import ConfigError

    current = load_config(use_env=False)
    interactive = sys.stdin.isatty()

    def ask(label: str, given: str | None, secret: bool) -> str:
        if given:
            return given.strip()
        if not interactive:
            raise ConfigError(f"{label} is required (no terminal to ask on)")
        value = getpass.getpass(f"{label}: ") if secret else input(f"{label}: ")
        return value.strip()

    client_id = args.client_id or current.credentials.client_id
    if not client_id:
        client_id = ask("Client id", None, secret=False)
    access_token = ask("Access token", args.access_token, secret=True)
    refresh_token = (
        ask("Refresh token (empty if none)", args.refresh_token, secret=True)
        if (args.refresh_token or interactive)
        else ""
    )
    if not client_id or not access_token:
        raise ConfigError("a client id and an access token are needed")
    api_base = check_api_base(args.api_base) if args.api_base else current.api_base
    credentials = replace(
        current.credentials,
        client_id=client_id,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=0.0,
    )
    update_config(api_base=api_base, credentials=credentials)
    from youku_tui import paths

    print(f"saved the login for client {client_id} to {paths.config_file()}")
    return EXIT_OK
