"""Each exception class name means one class across the package (issue 11: the sandbox's own
``OssError`` shadowed ``youku_tui.errors.OssError`` for any module that imported both)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict

import youku_tui


def _exception_classes() -> dict[str, list[str]]:
    """Exception class name -> the modules that define a class of that name."""
    where: dict[str, list[str]] = defaultdict(list)
    for info in pkgutil.walk_packages(youku_tui.__path__, "youku_tui."):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue  # importing it would run the program
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                where[name].append(module.__name__)
    return where


def test_no_two_exception_classes_share_a_name() -> None:
    where = _exception_classes()
    assert "OssError" in where and "ConfigError" in where  # the walk saw the package
    clashes = {name: modules for name, modules in where.items() if len(modules) > 1}
    assert clashes == {}
