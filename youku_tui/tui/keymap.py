"""The ``[keys]`` table of the config checked against the binding ids the app really has.

The config module only checks the table's shape (it is headless and does not know the ids);
the ids are the TUI's, so they are checked here, when the app loads the keymap.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping

from textual.binding import Binding
from textual.dom import DOMNode


def _subclasses(cls: type[DOMNode]) -> Iterator[type[DOMNode]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def binding_ids() -> set[str]:
    """Every binding id of every widget, screen and app class imported so far.

    Called once the app's modules are imported, this is every id ``[keys]`` can remap.
    """
    return {
        binding.id
        for cls in _subclasses(DOMNode)
        for binding in cls.__dict__.get("BINDINGS", ())
        if isinstance(binding, Binding) and binding.id
    }


def keymap_problems(keymap: Mapping[str, str], known: set[str]) -> list[str]:
    """One message per ``[keys]`` entry whose id no binding has (with the closest id)."""
    problems = []
    for binding_id in sorted(set(keymap) - known):
        close = sorted(i for i in known if i.rsplit(".", 1)[-1] == binding_id)[:1]
        close = close or difflib.get_close_matches(binding_id, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(
            f"[keys] {binding_id!r} is not a binding id{hint}; "
            f"valid ids: {', '.join(sorted(known))}"
        )
    return problems
