"""`youku-tui status / list / remove / clear`, progress output and Ctrl-C, as a user runs them:
subprocesses against the sandbox (in-process engine: no service runs in these tests)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import Any

from tests.e2e.cli_helpers import (
    checkpoints,
    cli,
    cli_env,
    json_lines,
    run_cli,
    start_slow_upload,
    wait_for_stored_parts,
)
from tests.e2e.e2e_helpers import MIB, make_video
from youku_tui.textwidth import cells

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def test_status_list_remove_and_clear_by_prefix(make_sandbox: Any, tmp_path: Path) -> None:
    sandbox = make_sandbox(faults="api.create=youku:120010111#1")
    refused, _ = make_video(tmp_path / "v", "refused.mp4", 200 * 1024)
    assert run_cli(sandbox, "upload", str(refused), "--tags", "ok,fine").returncode == 1
    fine, _ = make_video(tmp_path / "v", "fine.mp4", 300 * 1024)
    assert run_cli(sandbox, "upload", str(fine), "--tags", "ok,fine").returncode == 0

    status = run_cli(sandbox, "status", "--json")
    assert status.returncode == 0, status.stderr
    records = json_lines(status.stdout)
    assert [(Path(r["path"]).name, r["state"]) for r in records] == [
        ("refused.mp4", "failed"),
        ("fine.mp4", "done"),
    ]
    assert records[1]["bytes_done"] == records[1]["size"] == 300 * 1024
    assert "120010111" in records[0]["error"]
    plain = run_cli(sandbox, "status").stdout
    assert "1 done, 1 failed; nothing runs them now" in plain

    listed = run_cli(sandbox, "list").stdout  # unfinished and failed, not done
    assert "refused" in listed and "fine" not in listed
    assert "fine" in run_cli(sandbox, "list", "--all").stdout

    failed_id, done_id = records[0]["upload_id"], records[1]["upload_id"]
    refused_remove = run_cli(sandbox, "remove", "zzzz")
    assert refused_remove.returncode == 2
    assert "no upload 'zzzz'" in refused_remove.stderr
    removed = run_cli(sandbox, "remove", failed_id.rsplit("-", 1)[1][:5])
    assert removed.returncode == 0, removed.stderr
    assert "removed" in removed.stdout and "refused" in removed.stdout
    assert [c.upload_id for c in checkpoints()] == [done_id]

    cleared = run_cli(sandbox, "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert checkpoints() == []
    assert "nothing to clear" in run_cli(sandbox, "clear").stdout


def test_remove_refuses_an_unfinished_upload(make_sandbox: Any, tmp_path: Path) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, _ = make_video(tmp_path / "v", "busy.mp4", 4 * MIB)
    process = start_slow_upload(sandbox, path)
    paused = wait_for_stored_parts(2, process)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=10)
    result = run_cli(sandbox, "remove", paused.upload_id)
    assert result.returncode == 2
    assert "only done, failed and cancelled uploads can be removed" in result.stderr
    assert [c.state for c in checkpoints()] == ["paused"]


def test_piped_upload_prints_progress_lines_every_few_seconds(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, _ = make_video(tmp_path / "v", "piped.mp4", 7 * MIB)
    result = run_cli(
        sandbox, "upload", str(path), "--tags", "ok,fine", "--part-size", "256K", "--parts", "1"
    )
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stdout.splitlines() if "confirmed" in line]
    assert len(progress) >= 2, result.stdout  # ~7 s of upload, a line every 5 s
    assert all(line.startswith("piped: ") and "MiB" in line for line in progress)
    assert "\x1b" not in result.stdout
    quiet = run_cli(sandbox, "upload", str(path), "--tags", "ok,fine", "--quiet")
    assert quiet.stdout == ""


def _run_in_terminal(argv: list[str], env: dict[str, str], columns: int) -> tuple[int, str]:
    """Run under a pseudo-terminal of ``columns`` x 24; its exit code and everything it drew."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(argv, env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process ended
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(leader)
    return process.wait(timeout=10), b"".join(chunks).decode("utf-8", "replace")


def test_terminal_lines_fit_80_columns_in_cells_with_a_cjk_name(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, _ = make_video(tmp_path / "v", "旅行的第一天和第二天和第三天的视频剪辑版本.mp4", 3 * MIB)
    argv = cli(
        sandbox, "upload", str(path), "--tags", "ok,fine", "--part-size", "256K", "--parts", "1"
    )
    code, drawn = _run_in_terminal(argv, {**cli_env(sandbox), "TERM": "xterm"}, 80)
    assert code == 0, drawn
    lines = [ANSI.sub("", line) for line in re.split(r"\r?\n|\x1b\[\d+F", drawn)]
    rows = [line for line in lines if "[" in line and "]" in line and "旅行" in line]
    assert rows, drawn
    assert max(cells(row) for row in rows) <= 79, [(cells(r), r) for r in rows]
    moving = [row for row in rows if re.search(r"\d (KiB|MiB)/s ETA \d+[hms]", row)]
    assert moving, rows  # speed and time left while it runs
    # The bar starts in the same cell on every row whatever the state.
    assert len({cells(row[: row.index("[")]) for row in rows}) == 1


def test_ctrl_c_pauses_with_checkpoints_and_a_second_one_prints_no_traceback(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sandbox = make_sandbox(faults="oss.upload_part=bandwidth:1MB")
    path, _ = make_video(tmp_path / "v", "stop.mp4", 8 * MIB)
    process = subprocess.Popen(
        cli(
            sandbox, "upload", str(path), "--tags", "ok,fine", "--part-size", "256K", "--parts", "1"
        ),
        env=cli_env(sandbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_stored_parts(3, process)
    # A second would-be owner of the folder gets one line naming the owner, writes nothing.
    busy = run_cli(sandbox, "resume")
    assert busy.returncode == 2
    assert busy.stderr.count("\n") == 1 and f"pid {process.pid}" in busy.stderr
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=20)
    print(f"Ctrl-C to exit: {time.monotonic() - started:.2f} s")  # a figure, not asserted
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "checkpoints saved" in stderr
    [paused] = checkpoints()
    assert paused.state == "paused" and len(paused.parts) >= 3
