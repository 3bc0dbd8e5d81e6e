"""Byte sizes in one convention, and durations in one format, for the config file, the CLI
and the TUI alike.

Every size is binary: a user's ``5MB``, ``5M`` and ``5MiB`` all mean 5 x 1024 x 1024 bytes (as
rclone and most upload tools read them), and sizes are always *shown* with the IEC names
(KiB, MiB, GiB) so what is displayed says what is meant.
"""

from __future__ import annotations

import re

KIB = 1024
MIB = 1024**2
GIB = 1024**3

_FACTORS = {
    "": 1,
    "b": 1,
    "k": KIB,
    "kb": KIB,
    "kib": KIB,
    "m": MIB,
    "mb": MIB,
    "mib": MIB,
    "g": GIB,
    "gb": GIB,
    "gib": GIB,
}
_SIZE_RE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-z]*)(?:/s)?")
_SHOWN = ("B", "KiB", "MiB", "GiB", "TiB")
SIZE_EXAMPLES = "e.g. 512K, 5MB, 1GiB (binary units; 0 = none)"


def parse_size(text: str) -> int:
    """``"5MB"``, ``"5 MiB"``, ``"512k"``, ``"2MB/s"``, ``"0"`` -> bytes.

    Raises :class:`ValueError` with a message fit for the user when ``text`` is not a size
    (a negative number is not one).
    """
    match = _SIZE_RE.fullmatch(text.strip().lower())
    if not match or match.group(2) not in _FACTORS:
        raise ValueError(f"not a size: {text!r} ({SIZE_EXAMPLES})")
    return int(float(match.group(1)) * _FACTORS[match.group(2)])


def format_size(count: float) -> str:
    """``1536`` -> ``"1.5 KiB"``; whole bytes below 1 KiB."""
    value = float(count)
    for unit in _SHOWN:
        if abs(value) < 1024 or unit == _SHOWN[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable: the last unit always returns")  # pragma: no cover


def format_speed(bytes_per_second: float, *, short: bool = False) -> str:
    """``"1.5 MiB/s"``, or ``"-"`` when nothing moves. ``short``: at most 10 cells, for a
    column (``"153 KiB/s"``: no decimal from 100 on, where "153.2 KiB/s" would be cut)."""
    if bytes_per_second <= 0:
        return "-"
    shown = format_size(bytes_per_second)
    number, unit = shown.split(" ")
    if short and float(number) >= 100:
        shown = f"{float(number):.0f} {unit}"
    return shown + "/s"


def format_duration(seconds: float | None) -> str:
    """``42s``, ``12m05s``, ``1h02m`` (as rclone shows an ETA); ``-`` when unknown.

    At most six cells below 100 hours: the TUI's narrowest ETA column.
    """
    if seconds is None or seconds < 0:
        return "-"
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
