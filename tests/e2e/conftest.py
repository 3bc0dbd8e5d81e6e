"""Fixtures for end-to-end tests (helpers live in e2e_helpers.py)."""

from __future__ import annotations

from e2e_helpers import harness

__all__ = ["harness"]
