"""Small text formatters shared by the widgets (durations, bars; sizes are youku_tui.units')."""

from __future__ import annotations

_BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def human_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "-"
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def bar(fraction: float, width: int) -> str:
    """A progress bar made of block characters, ``width`` cells wide, eighth-cell precise."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = int(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full
    if full < width:
        text += _BAR_EIGHTHS[part] if part else " "
        text += " " * (width - full - 1)
    return text
