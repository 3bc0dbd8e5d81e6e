"""``python -m youku_tui.sandbox``: the same as ``youku-tui sandbox``."""

from __future__ import annotations

import argparse
import sys

from youku_tui.sandbox.cli import add_sandbox_parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m youku_tui.sandbox")
    sub = parser.add_subparsers(dest="command")
    add_sandbox_parser(sub)
    args = parser.parse_args(["sandbox", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
