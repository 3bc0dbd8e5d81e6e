"""Progress bars for the widgets (sizes and durations are youku_tui.units', shared with the CLI)."""

from __future__ import annotations

import math
from dataclasses import dataclass

_BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"
IN_FLIGHT_SHADE = "░"  # sent, not yet confirmed: readable as "not done" without colour


@dataclass(frozen=True, slots=True)
class BarParts:
    """A progress bar in three runs of cells: confirmed, in flight, still to send."""

    done: str
    in_flight: str
    rest: str

    @property
    def text(self) -> str:
        return self.done + self.in_flight + self.rest


def progress_bar(confirmed: float, in_flight: float, width: int) -> BarParts:
    """A bar ``width`` cells wide: ``confirmed`` (a fraction of the whole, what OSS answered
    for) in eighth-cell precise blocks, then ``in_flight`` (sent, not yet answered) as a
    light shade that never looks done - at least one cell while anything is in flight."""
    confirmed = min(max(confirmed, 0.0), 1.0)
    reach = min(max(confirmed + max(in_flight, 0.0), confirmed), 1.0)
    full, part = divmod(int(confirmed * width * 8), 8)
    done = "█" * full + (_BAR_EIGHTHS[part] if part and full < width else "")
    flight_cells = max(0, min(width, math.ceil(reach * width - 1e-9)) - len(done))
    if in_flight > 0 and not flight_cells and len(done) < width:
        flight_cells = 1
    shade = IN_FLIGHT_SHADE * flight_cells
    return BarParts(done, shade, " " * (width - len(done) - flight_cells))
