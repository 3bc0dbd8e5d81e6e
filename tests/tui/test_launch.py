"""Which owner `youku-tui` asks for: --no-service, [service] auto_start."""

from __future__ import annotations

from dataclasses import replace

from tests.tui.helpers import make_config
from youku_tui.config import ServiceSettings
from youku_tui.tui.launch import control_mode


def test_no_service_runs_here_auto_start_starts_one_else_attach_or_here() -> None:
    config = make_config()
    assert control_mode(True, config) == "local-only"
    assert control_mode(False, config) == "attach-or-start"  # the default: auto_start = true
    manual = replace(config, service=ServiceSettings(auto_start=False))
    assert control_mode(False, manual) == "attach-or-local"
