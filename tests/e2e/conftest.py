"""Fixtures for end-to-end tests (helpers live in e2e_helpers.py, imported as tests.e2e.e2e_helpers)."""

from __future__ import annotations

from tests.e2e.e2e_helpers import harness

__all__ = ["harness"]
