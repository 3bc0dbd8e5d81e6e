"""The speed views show (engine/speed.py), on a fake clock sampled at the engine's 4 Hz tick."""

from __future__ import annotations

from youku_tui.engine.manager import TICK
from youku_tui.engine.speed import SpeedMeter

KIB = 1024


def _run(meter: SpeedMeter, arrivals: dict[int, int], seconds: float) -> list[tuple[float, float]]:
    """Tick for ``seconds``; ``arrivals`` maps a tick number to bytes that arrived by then."""
    count, shown = 0, []
    for tick in range(int(seconds / TICK) + 1):
        now = tick * TICK
        count += arrivals.get(tick, 0)
        meter.sample(now, count)
        shown.append((now, meter.speed(now)))
    return shown


def test_chunks_held_back_by_a_cap_read_as_the_cap_not_as_bursts_and_stalls() -> None:
    # 128 KiB every 1.3 s (what a 100 KiB/s cap feeds one upload): 98.5 KiB/s on average.
    arrivals: dict[int, int] = {}
    for chunk in range(1, 11):
        arrivals[round(chunk * 1.3 / TICK)] = arrivals.get(round(chunk * 1.3 / TICK), 0) + 128 * KIB
    shown = _run(SpeedMeter(), arrivals, 13.0)
    steady = [speed for now, speed in shown if 3.0 <= now <= 13.0]
    assert steady and min(steady) > 0, "a capped upload was shown as stalled between chunks"
    assert all(80 * KIB <= speed <= 120 * KIB for speed in steady), [round(s / KIB) for s in steady]


def test_a_steady_fast_upload_reads_its_rate() -> None:
    arrivals = dict.fromkeys(range(1, 41), 1024 * KIB)  # 1 MiB a tick: 4 MiB/s
    shown = _run(SpeedMeter(), arrivals, 10.0)
    assert all(abs(speed - 4096 * KIB) < 1 for now, speed in shown if 1.0 <= now <= 10.0)


def test_a_real_stall_decays_then_reads_zero() -> None:
    arrivals = dict.fromkeys(range(1, 21), 256 * KIB)  # 1 MiB/s for 5 s, then nothing
    shown = dict(_run(SpeedMeter(), arrivals, 20.0))
    assert abs(shown[5.0] - 1024 * KIB) < 1
    assert 0 < shown[7.0] < shown[6.0] < 1024 * KIB  # slower as time passes
    assert shown[10.5] == 0.0  # nothing for more than a window: stalled


def test_bytes_given_back_start_the_measure_over() -> None:
    meter = SpeedMeter()
    for tick, count in enumerate((0, 100, 200, 300, 50, 150)):
        meter.sample(tick * 1.0, count)
    assert meter.speed(5.0) == 100.0  # from the drop on, not a negative figure
