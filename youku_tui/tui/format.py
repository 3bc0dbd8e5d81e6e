"""Small text formatters shared by the widgets (sizes, speeds, durations, bars)."""

from __future__ import annotations

_UNITS = ("B", "KB", "MB", "GB", "TB")
_BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def human_size(n: float) -> str:
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"  # pragma: no cover - loop always returns


def human_speed(bytes_per_second: float) -> str:
    if bytes_per_second <= 0:
        return "-"
    return human_size(bytes_per_second) + "/s"


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


def parse_size(text: str) -> int:
    """``"2MB"``, ``"500k"``, ``"0"`` (no cap) -> bytes; ValueError when it is not a size."""
    cleaned = text.strip().upper().replace(" ", "").removesuffix("/S").removesuffix("B")
    if not cleaned:
        raise ValueError("empty size")
    factor = 1
    for suffix, mult in (("K", 1024), ("M", 1024**2), ("G", 1024**3)):
        if cleaned.endswith(suffix):
            cleaned, factor = cleaned[:-1], mult
            break
    value = float(cleaned)
    if value < 0:
        raise ValueError("negative size")
    return int(value * factor)


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
