"""Bodies stream to disk: four large uploads at once leave the sandbox's memory flat."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import oss2
import psutil
import pytest

from tests.sandbox.helpers import make_file, start_process

SIZE = 48 * 1024 * 1024
LIMIT = 150 * 1024 * 1024


@pytest.mark.slow
def test_four_uploads_at_once_stay_small(tmp_path: Path) -> None:
    source = tmp_path / "big.mp4"
    md5 = make_file(source, SIZE)
    proc, env = start_process(tmp_path / "sb")
    try:
        answers = [
            httpx.post(
                f"{env['YOUKU_API_BASE']}/uploads/create.json",
                data={
                    "client_id": env["YOUKU_CLIENT_ID"],
                    "access_token": env["YOUKU_ACCESS_TOKEN"],
                    "file_name": f"f{n}.mp4",
                    "file_md5": md5,
                    "file_size": str(SIZE),
                    "title": "memory",
                    "tags": "memory",
                    "isnew": "1",
                },
            ).json()
            for n in range(4)
        ]
        process = psutil.Process(proc.pid)
        peak = process.memory_info().rss
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.02):
                peak = max(peak, process.memory_info().rss)

        def upload(answer: dict[str, str]) -> None:
            auth = oss2.StsAuth(
                answer["temp_access_id"], answer["temp_access_secret"], answer["security_token"]
            )
            bucket = oss2.Bucket(auth, answer["endpoint"], answer["oss_bucket"])
            bucket.put_object_from_file(answer["oss_object"], str(source))

        sampler = threading.Thread(target=sample)
        sampler.start()
        workers = [threading.Thread(target=upload, args=(a,)) for a in answers]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        done.set()
        sampler.join()
        videos = httpx.get(f"{env['YOUKU_API_BASE']}/sandbox/videos.json").json()
        assert videos["total"] == 0  # nothing committed, but every object is stored:
        stored = list((tmp_path / "sb" / "objects").glob("*/*.data"))
        assert [p.stat().st_size for p in stored] == [SIZE] * 4
        # 4 x 48 MiB held in memory would be 192 MiB on top of the interpreter.
        assert peak < LIMIT
    finally:
        proc.terminate()
        proc.wait(timeout=30)
