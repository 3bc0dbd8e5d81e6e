"""Headless subcommands: ``upload``, ``status``, ``list``, ``resume``, ``retry``, ``cancel``,
``remove``, ``clear``, ``login``.

Every command drives the uploads through an :class:`UploadControl` (``open_control``): the
per-user service when it runs, else the engine in this process, which then owns the state
folder for as long as the command runs. A second would-be owner gets one line naming the
owner (exit 2).

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
    from youku_tui.cli.follow import Follower
    from youku_tui.cli.progress import JsonLines, TerminalBoard
    from youku_tui.cli.views import Uploads
    from youku_tui.config import Config, Credentials, MetadataDefaults
    from youku_tui.engine.manager import UploadSnapshot
    from youku_tui.metadata import VideoMetadata
    from youku_tui.service.connect import ControlMode
    from youku_tui.service.control import UploadControl

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
    # Limits of the uploads' owner, changed live and kept for later runs (issue 7).
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
        help="upload video files and follow them until they are committed",
        description="Upload video files to Youku. A title may use {stem}, {name}, {index}, "
        "{date}. When the service runs, the uploads are queued there and followed: Ctrl-C "
        "stops following and they go on. Without a service they run in this process: "
        "Ctrl-C pauses them (checkpoints saved). Exit 0 only when every file is committed.",
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
    parser.add_argument(
        "--category", help="Youku category, e.g. Others (default: none sent, Youku chooses)"
    )
    parser.add_argument("--public-type", choices=("all", "friend", "password"))
    _add_password_options(parser, "watch password for --public-type password")
    parser.add_argument("--copyright-type", choices=("original", "reproduced"))
    parser.add_argument(
        "--detach",
        "-d",
        action="store_true",
        help="hand the uploads to the service (started when needed), print their ids, exit",
    )
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


def add_status_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "status",
        help="every upload with its progress (--follow: live, until Ctrl-C)",
        description="Every upload in queue order with what OSS confirmed. From the service "
        "when it runs, else from the checkpoints.",
    )
    parser.add_argument("--follow", "-f", action="store_true", help="keep showing, until Ctrl-C")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    _add_common(parser)
    parser.set_defaults(handler=run_status)


def add_list_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "list", help="show unfinished and failed uploads with their ids, in queue order"
    )
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


def add_remove_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "remove",
        help="forget done, failed or cancelled uploads by id (deletes their checkpoints)",
    )
    parser.add_argument("upload_ids", nargs="+", metavar="ID")
    _add_common(parser)
    parser.set_defaults(handler=run_remove)


def add_clear_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "clear", help="forget every done and cancelled upload (--failed: failed ones too)"
    )
    parser.add_argument("--failed", action="store_true", help="also forget failed uploads")
    _add_common(parser)
    parser.set_defaults(handler=run_clear)


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


def _make_sink(args: argparse.Namespace, *, show_ids: bool = False) -> JsonLines | TerminalBoard:
    import shutil

    from youku_tui.cli.progress import JsonLines, TerminalBoard

    if args.json:
        return JsonLines(sys.stdout)
    return TerminalBoard(
        sys.stdout,
        tty=sys.stdout.isatty(),
        width=shutil.get_terminal_size().columns,
        quiet=getattr(args, "quiet", False),
        show_ids=show_ids,
    )


def _run_async(coro_factory: Callable[[], Coroutine[Any, Any, int]]) -> int:
    import asyncio

    return asyncio.run(coro_factory())


def _apply_limits(control: UploadControl, args: argparse.Namespace) -> None:
    """--jobs / --parts / --bandwidth: live limits of the uploads' owner (kept for later runs)."""
    if args.jobs or args.parts is not None or args.bandwidth is not None:
        control.set_limits(max_uploads=args.jobs, max_parts=args.parts, bandwidth=args.bandwidth)


def _service_runs(sandbox: bool) -> bool:
    """True when the per-user service owns the state folder (views attach to it)."""
    from youku_tui import paths
    from youku_tui.engine.owner import current_owner

    owner = current_owner(paths.uploads_dir(sandbox))
    return owner is not None and owner.role == "service"


async def _follow(
    control: UploadControl,
    follower: Follower,
    sink: JsonLines | TerminalBoard,
    args: argparse.Namespace,
) -> int:
    """Follow until every followed upload settled; print the results; the exit code.

    In this process Ctrl-C pauses the uploads (checkpoints saved); with the service it only
    stops the following and the uploads go on.
    """
    from youku_tui.cli.follow import Interrupts
    from youku_tui.cli.progress import JsonLines
    from youku_tui.engine.states import UploadState

    in_service = control.owner.in_service
    with Interrupts(
        follower.settled, pause=None if in_service else control.pause_all
    ) as interrupts:
        await follower.settled.wait()
    control.unsubscribe(follower)  # what comes later (the owner closing) is not for this view
    sink.close()
    snaps = follower.followed()
    if isinstance(sink, JsonLines):
        for snap in snaps:
            sink.write(_result_record(snap))
    if interrupts.exit_code is not None:
        if in_service:
            print(
                "youku-tui: stopped following; the uploads go on in the service - "
                "`youku-tui status --follow` follows them again",
                file=sys.stderr,
            )
        else:
            print(
                "youku-tui: paused; checkpoints saved - run `youku-tui resume` to continue",
                file=sys.stderr,
            )
        return interrupts.exit_code
    done = sum(1 for s in snaps if s.state is UploadState.DONE)
    if not isinstance(sink, JsonLines) and not args.quiet:
        print(f"{done} of {len(snaps)} file(s) committed")
    return EXIT_OK if done == len(snaps) else EXIT_FAILED


def _result_record(snap: UploadSnapshot) -> dict[str, Any]:
    return {
        "event": "result",
        "upload_id": snap.upload_id,
        "path": snap.path,
        "title": snap.title,
        "state": str(snap.state),
        "video_id": snap.video_id,
        "error": snap.last_error,
        "code": snap.last_error_code,
    }


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
    from youku_tui.errors import YoukuTuiError
    from youku_tui.service.connect import open_control

    config, items = prepared
    sink = _make_sink(args)
    mode: ControlMode = "attach-or-start" if args.detach else "attach-or-local"
    async with open_control(
        args.sandbox, config=config, mode=mode, role="youku-tui upload"
    ) as control:
        if args.detach and not control.owner.in_service:
            raise YoukuTuiError("the service did not start; try `youku-tui service start`")
        if args.part_size and control.owner.in_service:
            print(
                "youku-tui: --part-size is not used: the service picks part sizes", file=sys.stderr
            )
        follower = _attach_follower(control, sink, args)
        ids = [await control.add(path, meta) for path, meta in items]
        if args.detach:
            control.unsubscribe(follower)
            _print_queued(control, ids, args)
            return EXIT_OK
        follower.watch(ids)
        return await _follow(control, follower, sink, args)


def _print_queued(control: UploadControl, ids: list[str], args: argparse.Namespace) -> None:
    """--detach: the ids, one a line (or a JSON object each), and how to follow them."""
    from youku_tui.cli.views import json_line

    snaps = {s.upload_id: s for s in control.snapshots()}
    for upload_id in ids:
        snap = snaps.get(upload_id)
        if args.json:
            path = snap.path if snap else ""
            print(json_line({"event": "queued", "upload_id": upload_id, "path": path}))
        else:
            print(upload_id)
    if not args.json and not args.quiet:
        print(
            f"youku-tui: {len(ids)} upload(s) queued in the service (pid {control.owner.pid}); "
            "`youku-tui status --follow` follows them",
            file=sys.stderr,
        )


# --- resume and retry ---------------------------------------------------------------------


def run_resume(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _resume(args)))


async def _resume(args: argparse.Namespace) -> int:
    from youku_tui.engine.states import UploadState
    from youku_tui.service.connect import open_control

    sink = _make_sink(args)
    async with open_control(args.sandbox, role="youku-tui resume") as control:
        follower = _attach_follower(control, sink, args)
        problems = await control.resume_unfinished(start=True, watch_password=_watch_password(args))
        for problem in problems:
            _report_problem(sink, str(problem.path), problem.message)
        snaps = control.snapshots()
        for snap in snaps:  # paused in a running service: resume them too
            if snap.state is UploadState.PAUSED:
                control.resume(snap.upload_id)
        # Failed uploads stay failed (issue 10): listed, not retried, not counted.
        failed = [s for s in snaps if s.state is UploadState.FAILED]
        if failed:
            _note_failed(len(failed))
        ids = [s.upload_id for s in snaps if s.state in (UploadState.PAUSED, UploadState.QUEUED)]
        ids += [s.upload_id for s in snaps if s.state.is_active]
        if not ids:
            control.unsubscribe(follower)
            sink.close()
            if not problems and not failed:
                print("nothing to resume", file=sys.stderr)
            return EXIT_FAILED if problems else EXIT_OK
        follower.watch(ids)
        code = await _follow(control, follower, sink, args)
        # A checkpoint that could not be resumed now (corrupt, its file changed) is a failure.
        return EXIT_FAILED if problems and code == EXIT_OK else code


def _note_failed(count: int) -> None:
    print(
        f"youku-tui: {count} failed upload(s) left as they are: `youku-tui list` shows why, "
        "`youku-tui retry ID` tries one again, `youku-tui remove ID` forgets it",
        file=sys.stderr,
    )


def run_retry(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _retry(args)))


async def _retry(args: argparse.Namespace) -> int:
    from youku_tui.engine.ids import resolve_id, short_id
    from youku_tui.engine.states import UploadState
    from youku_tui.errors import CheckpointError
    from youku_tui.service.connect import open_control

    password = _watch_password(args)
    sink = _make_sink(args)
    async with open_control(args.sandbox, role="youku-tui retry") as control:
        follower = _attach_follower(control, sink, args)
        await control.resume_unfinished(start=False, watch_password=password)
        snaps = {s.upload_id: s for s in control.snapshots()}
        ids = [resolve_id(given, snaps) for given in args.upload_ids]
        for upload_id in ids:
            if snaps[upload_id].state is not UploadState.FAILED:
                raise CheckpointError(
                    f"{short_id(upload_id)} is {snaps[upload_id].state}, not failed "
                    "(`youku-tui resume` continues paused uploads)"
                )
        for upload_id in ids:
            control.retry(upload_id, watch_password=password)
        follower.watch(ids)
        return await _follow(control, follower, sink, args)


def _report_problem(sink: JsonLines | TerminalBoard, path: str, message: str) -> None:
    from youku_tui.cli.progress import JsonLines
    from youku_tui.textsafe import safe_text

    if isinstance(sink, JsonLines):
        sink.write({"event": "checkpoint_problem", "path": path, "message": message})
    else:
        print(f"youku-tui: {safe_text(message)}", file=sys.stderr)


def _attach_follower(
    control: UploadControl, sink: JsonLines | TerminalBoard, args: argparse.Namespace
) -> Follower:
    """Follow the owner's events into ``sink`` and apply the command's --jobs/--parts/
    --bandwidth: the start of every command that waits for uploads."""
    from youku_tui.cli.follow import Follower

    follower = Follower(control, sink)
    control.subscribe(follower)
    _apply_limits(control, args)
    return follower


# --- list and status ----------------------------------------------------------------------


async def _gather(sandbox: bool) -> Uploads:
    """Every upload: the service's live view merged with the checkpoints on disk."""
    from youku_tui import paths
    from youku_tui.cli.views import Uploads, merge, read_checkpoints
    from youku_tui.engine.owner import current_owner

    folder = paths.uploads_dir(sandbox)
    stored, problems = read_checkpoints(folder)
    if _service_runs(sandbox):
        from youku_tui.service.connect import open_control

        async with open_control(sandbox, role="youku-tui status") as control:
            return Uploads(
                merge(control.snapshots(), stored), f"service pid {control.owner.pid}", problems
            )
    owner = current_owner(folder)
    return Uploads(stored, owner.describe() if owner else "", problems)


def run_list(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _list(args)))


async def _list(args: argparse.Namespace) -> int:
    import shutil

    from youku_tui.cli.views import FINISHED, json_line, record, table_lines
    from youku_tui.engine.states import UploadState
    from youku_tui.textsafe import safe_text

    uploads = await _gather(args.sandbox)
    for problem in uploads.problems:
        print(f"youku-tui: {safe_text(problem)}", file=sys.stderr)
    hidden = {UploadState.DONE, UploadState.CANCELLED}
    shown = [s for s in uploads.snapshots if args.all or s.state not in hidden]
    if args.json:
        for snap in shown:
            print(json_line(record(snap, in_use=bool(uploads.owner))))
        return EXIT_OK
    width = shutil.get_terminal_size().columns - 1 if sys.stdout.isatty() else None
    for line in table_lines(shown, width):
        print(line)
    if not shown:
        print("no unfinished uploads")
    elif uploads.owner and any(s.state not in FINISHED for s in shown):
        print(f"(run by {safe_text(uploads.owner)})")
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _status(args)))


async def _status(args: argparse.Namespace) -> int:
    if args.follow and _service_runs(args.sandbox):
        return await _follow_service(args)
    uploads = await _gather(args.sandbox)
    _print_status(uploads, args)
    if not args.follow:
        return EXIT_OK
    if not uploads.owner:
        print("youku-tui: nothing runs these uploads now; nothing to follow", file=sys.stderr)
        return EXIT_OK
    return await _poll_status(args)


def _print_status(uploads: Uploads, args: argparse.Namespace) -> None:
    from collections import Counter

    from youku_tui.cli.progress import TerminalBoard
    from youku_tui.cli.views import json_line, record
    from youku_tui.textsafe import safe_text

    for problem in uploads.problems:
        print(f"youku-tui: {safe_text(problem)}", file=sys.stderr)
    if args.json:
        for snap in uploads.snapshots:
            print(json_line(record(snap, in_use=bool(uploads.owner))))
        return
    board = TerminalBoard(sys.stdout, tty=False, width=_width(), show_ids=True)
    board.load(uploads.snapshots)
    for line in board.lines() or ["no uploads"]:
        print(line)
    counts = Counter(str(s.state) for s in uploads.snapshots)
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing"
    who = f"run by {safe_text(uploads.owner)}" if uploads.owner else "nothing runs them now"
    print(f"{summary}; {who}")


def _width() -> int:
    import shutil

    return shutil.get_terminal_size().columns if sys.stdout.isatty() else 200


async def _poll_status(args: argparse.Namespace) -> int:
    """--follow while another process (not the service) runs the uploads: its checkpoints,
    saved as each part is confirmed, read again every second until Ctrl-C."""
    import asyncio
    import contextlib

    from youku_tui.cli.follow import Interrupts

    stop = asyncio.Event()
    interval = 1.0 if sys.stdout.isatty() else 5.0
    with Interrupts(stop, pause=None):
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if stop.is_set():
                break
            uploads = await _gather(args.sandbox)
            _print_status(uploads, args)
            if not uploads.owner:
                break
    return EXIT_OK


async def _follow_service(args: argparse.Namespace) -> int:
    """status --follow with the service: its snapshot now, then its events, until Ctrl-C."""
    import asyncio

    from youku_tui.cli.follow import Interrupts
    from youku_tui.cli.progress import JsonLines
    from youku_tui.cli.views import json_line, record
    from youku_tui.service.connect import open_control

    sink = _make_sink(args, show_ids=True)
    async with open_control(args.sandbox, role="youku-tui status") as control:
        snaps = control.snapshots()
        if isinstance(sink, JsonLines):
            for snap in snaps:
                print(json_line({"event": "snapshot", **record(snap, in_use=True)}), flush=True)
        else:
            sink.load(snaps)
        control.subscribe(sink)
        stop = asyncio.Event()
        with Interrupts(stop, pause=None):
            await stop.wait()
        control.unsubscribe(sink)
    sink.close()
    return EXIT_OK


# --- cancel, remove, clear ----------------------------------------------------------------


def run_cancel(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _cancel(args)))


async def _cancel(args: argparse.Namespace) -> int:
    from youku_tui.engine.ids import resolve_id
    from youku_tui.errors import UnknownUploadError
    from youku_tui.service.connect import open_control
    from youku_tui.textsafe import safe_text

    async with open_control(args.sandbox, role="youku-tui cancel") as control:
        await control.resume_unfinished(start=False)
        known = [s.upload_id for s in control.snapshots() if not s.state.is_terminal]
        code = EXIT_OK
        for given in args.upload_ids:
            try:
                upload_id = resolve_id(given, known)
            except UnknownUploadError as exc:
                print(f"youku-tui: {safe_text(exc)}", file=sys.stderr)
                code = EXIT_FAILED
                continue
            await control.cancel(upload_id)
            print(f"cancelled {upload_id}")
        return code


def run_remove(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _remove(args, clear=False)))


def run_clear(args: argparse.Namespace) -> int:
    return _guard(lambda: _run_async(lambda: _remove(args, clear=True)))


async def _remove(args: argparse.Namespace, *, clear: bool) -> int:
    """Forget finished uploads (done, cancelled; failed ones by id or with --failed)."""
    from youku_tui import paths
    from youku_tui.cli.views import FINISHED, merge, read_checkpoints
    from youku_tui.engine.events import EngineEvent, UploadLog
    from youku_tui.engine.ids import resolve_id, short_id
    from youku_tui.engine.states import UploadState
    from youku_tui.errors import CheckpointError
    from youku_tui.service.connect import open_control
    from youku_tui.textsafe import safe_text

    async with open_control(args.sandbox, role="youku-tui remove") as control:
        errors: list[str] = []

        def on_event(event: EngineEvent) -> None:
            if isinstance(event, UploadLog) and event.level == "error":
                errors.append(event.message)

        control.subscribe(on_event)
        await control.resume_unfinished(start=False)  # failed ones of earlier runs too
        stored, _ = read_checkpoints(paths.uploads_dir(args.sandbox))
        snaps = {s.upload_id: s for s in merge(control.snapshots(), stored)}
        if clear:
            wanted = {UploadState.DONE, UploadState.CANCELLED}
            if args.failed:
                wanted.add(UploadState.FAILED)
            ids = [uid for uid, s in snaps.items() if s.state in wanted]
        else:
            ids = [resolve_id(given, snaps) for given in args.upload_ids]
            busy = [uid for uid in ids if snaps[uid].state not in FINISHED]
            if busy:
                state = snaps[busy[0]].state
                raise CheckpointError(
                    f"{short_id(busy[0])} is {state}: only done, failed and cancelled uploads "
                    "can be removed (`youku-tui cancel` it first)"
                )
        for upload_id in ids:
            control.remove(upload_id)
            if not errors:
                print(f"removed {short_id(upload_id)}  {safe_text(snaps[upload_id].title)}")
        control.unsubscribe(on_event)
    for error in errors:
        print(f"youku-tui: {safe_text(error)}", file=sys.stderr)
    if clear and not ids:
        print("nothing to clear")
    return EXIT_FAILED if errors else EXIT_OK


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
    if _service_runs(sandbox=False):
        _run_async(lambda: _log_in_service(credentials))
        print("the running service uses it now; uploads that waited for it go on")
    return EXIT_OK


async def _log_in_service(credentials: Credentials) -> int:
    from youku_tui.service.connect import open_control

    async with open_control(False, role="youku-tui login") as control:
        control.log_in(credentials)
    return EXIT_OK
