"""The ``fazhi`` command line: the parser of every command group, and ``main``."""
from __future__ import annotations

import argparse
import sys

from api.cli import ask, index, kb, privacy, report, serve, users
from api.cli import eval as evaluation
from api.settings import Settings

#: In the order ``fazhi --help`` lists them.
GROUPS = (index.add_model_parser, kb.add_parser, index.add_parser, ask.add_parser,
          evaluation.add_parser, serve.add_parser, users.add_parser, report.add_parser,
          privacy.add_parser)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fazhi", description="公共法律服务智能咨询助手")
    sub = p.add_subparsers(dest="command", required=True)
    for add_group in GROUPS:
        add_group(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        return args.func(settings, args)
    except (ValueError, LookupError, OSError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
