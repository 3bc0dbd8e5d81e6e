"""Following uploads through an :class:`UploadControl` until they settle, and Ctrl-C.

The same code follows uploads run in this process (an ``EngineHost``) and in the service:

- :class:`Follower` is the control's event sink. It passes to the view (the board or the JSON
  lines) only the events of the uploads it follows, and tells when every one of them has
  settled (done, failed, paused or cancelled; or queued while the owner waits for a login).
- :class:`Interrupts` turns SIGINT / SIGTERM into a decision: in this process they pause every
  upload (checkpoints saved) and the command then returns; when the service runs the uploads,
  they only stop the following. A second Ctrl-C never raises anything.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from youku_tui.engine.events import EngineEvent, StateChanged, UploadRemoved
from youku_tui.engine.states import UploadState

if TYPE_CHECKING:
    from youku_tui.engine.manager import UploadSnapshot
    from youku_tui.service.control import UploadControl

S = UploadState
SETTLED = frozenset({S.DONE, S.FAILED, S.PAUSED, S.CANCELLED})


class Follower:
    """Event sink: forwards the followed uploads' events and notices when they settled.

    Until :meth:`watch` names the uploads (their ids are known only once ``add`` returned),
    events are kept, then those of the followed uploads are replayed in order.
    """

    def __init__(self, control: UploadControl, view: Callable[[EngineEvent], None]) -> None:
        self._control = control
        self._view = view
        self._ids: set[str] | None = None
        self._kept: list[EngineEvent] = []
        self.settled = asyncio.Event()

    def __call__(self, event: EngineEvent) -> None:
        if self._ids is None:
            self._kept.append(event)
            return
        if event.upload_id and event.upload_id not in self._ids:
            return  # another client's upload
        self._view(event)
        if isinstance(event, StateChanged | UploadRemoved):
            self.check()

    def watch(self, upload_ids: Iterable[str]) -> None:
        self._ids = set(upload_ids)
        kept, self._kept = self._kept, []
        for event in kept:
            self(event)
        self.check()

    def check(self) -> None:
        """Set :attr:`settled` once nothing followed is queued or running."""
        if self._ids is None:
            return
        waiting_for_login = self._control.login_blocked
        states = {s.upload_id: s.state for s in self._control.snapshots()}
        for upload_id in self._ids:
            state = states.get(upload_id)
            if state is None or state in SETTLED:
                continue
            if state is S.QUEUED and waiting_for_login:
                continue
            return
        self.settled.set()

    def followed(self) -> list[UploadSnapshot]:
        ids = self._ids or set()
        return [s for s in self._control.snapshots() if s.upload_id in ids]


class Interrupts:
    """SIGINT / SIGTERM while following; see the module's docstring.

    The handlers stay until the command returns; from then on the signals are ignored, so a
    late Ctrl-C never lands in the clean-up as a KeyboardInterrupt with a traceback.
    """

    def __init__(self, stop: asyncio.Event, *, pause: Callable[[], None] | None) -> None:
        self._stop = stop  # set to stop following
        self._pause = pause  # None: the uploads are not ours to stop (the service runs them)
        self.signal: int | None = None

    def __enter__(self) -> Interrupts:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
            signal.signal(sig, signal.SIG_IGN)

    def _on_signal(self, sig: int) -> None:
        if self.signal is not None:
            if self._pause is not None:
                print("youku-tui: pausing, saving checkpoints...", file=sys.stderr)
            return
        self.signal = sig
        if self._pause is None:
            self._stop.set()  # stop following; the uploads go on
        else:
            self._pause()  # the uploads settle as paused; the command then returns

    @property
    def exit_code(self) -> int | None:
        if self.signal is None:
            return None
        return 143 if self.signal == signal.SIGTERM else 130
