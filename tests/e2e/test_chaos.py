"""The chaos suite's short form (benchmarks/chaos.py --short): files of 1 byte, one part
exactly, one part plus one and more, uploaded by `youku-tui upload`/`resume` processes that
are SIGKILLed at random moments, against a sandbox with faults on every route and short STS
and token lifetimes. Every file must end committed exactly once with its MD5."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

CHAOS = Path(__file__).resolve().parents[2] / "benchmarks" / "chaos.py"


@pytest.mark.slow
def test_chaos_short_form_loses_nothing_and_commits_each_file_once(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("youku_chaos", CHAOS)
    assert spec is not None and spec.loader is not None
    chaos = importlib.util.module_from_spec(spec)
    sys.modules["youku_chaos"] = chaos
    spec.loader.exec_module(chaos)
    config = chaos.SHORT
    report = chaos.run(config, tmp_path, log=lambda _line: None)
    print("\n".join(report.lines()))
    assert report.bytes_lost == 0, report.problems
    assert report.double_commits == 0, report.problems
    assert report.committed == report.uploads == config.files
    assert report.problems == []
    assert report.kills == config.kills  # the kills really happened
    assert report.faults > 0  # and so did the faults
