"""Injected faults: a share of requests per route answered badly, dropped, slowed or throttled.

Grammar (docs/architecture.md): comma-separated rules ``ROUTE=ACTION[@RATE][#COUNT]``.
ROUTE is a route name or a glob (``oss.*``, ``*``); RATE a fraction 0..1 (default 1); COUNT
the most times the rule fires (default unlimited). ACTION is an HTTP status (``503``),
``youku:CODE``, ``drop``, ``latency:MS`` or ``bandwidth:RATE`` (bytes per second, a size as
:mod:`youku_tui.units` reads it everywhere in the app: ``2MB`` = ``2MiB`` = 2 x 1024 x 1024, an
optional ``/s``).

Each rule draws from its own random generator seeded from ``seed`` and the rule's position,
so the n-th request a rule sees always gets the same decision under the same seed.
"""

from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass, field
from enum import StrEnum

from youku_tui.units import parse_size


class FaultKind(StrEnum):
    STATUS = "status"
    YOUKU = "youku"
    DROP = "drop"
    LATENCY = "latency"
    BANDWIDTH = "bandwidth"


# Faults that replace the answer; latency and bandwidth only slow it and can stack with them.
TERMINAL_KINDS = frozenset({FaultKind.STATUS, FaultKind.YOUKU, FaultKind.DROP})

_RULE_RE = re.compile(
    r"^(?P<route>[A-Za-z0-9_.*?\[\]-]+)=(?P<action>[^@#]+)"
    r"(?:@(?P<rate>[0-9.]+))?(?:#(?P<count>[0-9]+))?$"
)


class FaultSpecError(ValueError):
    """A fault spec that does not follow the grammar; the message names the bad rule."""


@dataclass(slots=True)
class FaultRule:
    route: str
    kind: FaultKind
    value: int  # status, Youku code, milliseconds or bytes per second; 0 for drop
    rate: float = 1.0
    count: int | None = None
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, route: str) -> bool:
        return fnmatch.fnmatchcase(route, self.route)

    def draw(self) -> bool:
        """Decide (and count) whether the rule fires on this request."""
        if self.count is not None and self.fired >= self.count:
            return False
        # Always draw, even at rate 1, so a rule's sequence does not depend on its rate.
        hit = self.rng.random() < self.rate
        if hit:
            self.fired += 1
        return hit


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one request: at most one terminal fault, plus slowdowns."""

    status: int | None = None
    youku_code: int | None = None
    drop: bool = False
    latency: float = 0.0  # seconds
    bandwidth: int = 0  # bytes per second for this connection; 0 = unlimited

    @property
    def replaces_answer(self) -> bool:
        return self.status is not None or self.youku_code is not None or self.drop


NO_FAULT = FaultDecision()


def parse_bandwidth(text: str) -> int:
    """``bandwidth:RATE``'s rate in bytes per second, read by the app's one size parser."""
    try:
        value = parse_size(text)
    except ValueError:
        raise FaultSpecError(
            f"bad bandwidth {text!r} (bytes per second: e.g. 500K, 2MB, 1MiB; binary units)"
        ) from None
    if value <= 0:
        raise FaultSpecError(f"bandwidth {text!r} must be positive")
    return value


def parse_rule(text: str, index: int, seed: int) -> FaultRule:
    match = _RULE_RE.match(text.strip())
    if not match:
        raise FaultSpecError(f"bad fault rule {text!r} (expected ROUTE=ACTION[@RATE][#COUNT])")
    action = match.group("action").strip()
    kind: FaultKind
    value: int
    if action.isdigit():
        kind, value = FaultKind.STATUS, int(action)
        if not 400 <= value <= 599:
            raise FaultSpecError(f"status {value} in {text!r} must be 400..599")
    elif action.startswith("youku:") and action[6:].isdigit():
        kind, value = FaultKind.YOUKU, int(action[6:])
    elif action == "drop":
        kind, value = FaultKind.DROP, 0
    elif action.startswith("latency:") and action[8:].isdigit():
        kind, value = FaultKind.LATENCY, int(action[8:])
    elif action.startswith("bandwidth:"):
        kind, value = FaultKind.BANDWIDTH, parse_bandwidth(action[10:])
    else:
        raise FaultSpecError(
            f"bad action {action!r} in {text!r} "
            "(use a status, youku:CODE, drop, latency:MS or bandwidth:RATE)"
        )
    rate = float(match.group("rate")) if match.group("rate") else 1.0
    if not 0.0 <= rate <= 1.0:
        raise FaultSpecError(f"rate {rate} in {text!r} must be between 0 and 1")
    count = int(match.group("count")) if match.group("count") else None
    rng = random.Random(f"{seed}:{index}:{text.strip()}")
    return FaultRule(match.group("route"), kind, value, rate, count, rng=rng)


class FaultPlan:
    """The active rules; ``decide`` is called once per request, on the event loop."""

    def __init__(self, spec: str = "", seed: int = 0) -> None:
        self.spec = spec.strip()
        self.rules = [
            parse_rule(text, index, seed)
            for index, text in enumerate(t for t in self.spec.split(",") if t.strip())
        ]

    def decide(self, route: str, api_route: bool) -> FaultDecision:
        status: int | None = None
        youku_code: int | None = None
        drop = False
        latency = 0.0
        bandwidth = 0
        terminal_taken = False
        for rule in self.rules:
            if not rule.matches(route):
                continue
            if rule.kind is FaultKind.YOUKU and not api_route:
                continue  # Youku codes mean nothing to OSS clients
            if rule.kind in TERMINAL_KINDS and terminal_taken:
                continue
            if not rule.draw():
                continue
            if rule.kind is FaultKind.STATUS:
                status, terminal_taken = rule.value, True
            elif rule.kind is FaultKind.YOUKU:
                youku_code, terminal_taken = rule.value, True
            elif rule.kind is FaultKind.DROP:
                drop, terminal_taken = True, True
            elif rule.kind is FaultKind.LATENCY:
                latency += rule.value / 1000.0
            else:
                bandwidth = rule.value if not bandwidth else min(bandwidth, rule.value)
        if not (terminal_taken or latency or bandwidth):
            return NO_FAULT
        return FaultDecision(status, youku_code, drop, latency, bandwidth)
