from __future__ import annotations

import itertools

import pytest

from youku_tui.engine.states import (
    ALLOWED,
    IllegalTransition,
    UploadState,
    can_transition,
    transition,
)

S = UploadState


def test_happy_path_is_allowed() -> None:
    path = [S.QUEUED, S.HASHING, S.CREATING, S.UPLOADING, S.COMMITTING, S.DONE]
    for old, new in itertools.pairwise(path):
        assert transition(old, new) is new


def test_done_goes_nowhere() -> None:
    assert S.DONE.is_terminal
    for target in UploadState:
        assert not can_transition(S.DONE, target)
        with pytest.raises(IllegalTransition):
            transition(S.DONE, target)


def test_cancelled_goes_back_to_the_queue_only_on_a_retry() -> None:
    assert S.CANCELLED.is_terminal  # resume and auto-resume leave it alone
    assert ALLOWED[S.CANCELLED] == {S.QUEUED}


@pytest.mark.parametrize("state", [S.HASHING, S.CREATING, S.UPLOADING, S.COMMITTING])
def test_every_active_state_can_pause_fail_and_cancel(state: UploadState) -> None:
    assert state.is_active
    for target in (S.PAUSED, S.FAILED, S.CANCELLED):
        assert can_transition(state, target)


def test_paused_and_failed_go_back_to_the_queue_or_cancel() -> None:
    assert ALLOWED[S.FAILED] == {S.QUEUED, S.CANCELLED}
    # A paused upload may also fail: its file changed while it waited.
    assert ALLOWED[S.PAUSED] == {S.QUEUED, S.CANCELLED, S.FAILED}


def test_skipping_phases_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="queued to uploading"):
        transition(S.QUEUED, S.UPLOADING)
    with pytest.raises(IllegalTransition):
        transition(S.PAUSED, S.UPLOADING)
    with pytest.raises(IllegalTransition):
        transition(S.HASHING, S.DONE)


def test_every_state_has_a_rule() -> None:
    assert set(ALLOWED) == set(UploadState)
