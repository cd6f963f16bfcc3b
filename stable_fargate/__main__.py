"""``python -m stable_fargate``: the read side's command line.

    python -m stable_fargate drift cdk.out [--json] [--all] [--config cdk.json | --no-config]

Exit codes: 0 no undeclared drift, 1 undeclared drift, 2 unreadable input (one line on
stderr, never a traceback). With only one environment there is nothing to compare: the
output says so and the exit code is 0, because the input is readable and holds no drift;
a gate that needs a comparison checks ``"compared": true`` in the ``--json`` output. A
reader that stops early (``... | head -1``) ends the output quietly, with the same exit code.
Each subcommand is one ``_add_<name>`` function and one
``_run_<name>`` function, so review and cost slot in beside drift.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from stable_fargate.review.drift import Declarations, compare, declarations_from_context, render_text
from stable_fargate.review.model import ReadError, load_assembly

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_BAD_INPUT = 2

Runner = Callable[[argparse.Namespace], int]


def _add_drift(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "drift",
        help="compare each service's task definition across environments",
        description="Compare each service's task definition across the environments of a synthesized app "
        "(before deploy; CloudFormation's `cdk drift` compares a deployed stack with its template instead).",
    )
    parser.add_argument("assembly", type=Path, help="the cdk.out directory (or a directory of *.template.json, one per environment)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--all", action="store_true", help="list identical properties too")
    config = parser.add_mutually_exclusive_group()
    config.add_argument(
        "--config", type=Path, default=None,
        help="cdk.json whose stable_fargate block declares the intended differences (default: cdk.json beside the assembly)",
    )
    config.add_argument("--no-config", action="store_true", help="ignore any cdk.json: value differences count as declared")
    parser.set_defaults(run=_run_drift)


def _run_drift(args: argparse.Namespace) -> int:
    model = load_assembly(args.assembly)
    declarations = _declarations(args)
    report = compare(model, declarations)
    _emit(json.dumps(report.to_json(), indent=2) if args.json else render_text(report, show_all=args.all))
    return EXIT_DRIFT if report.has_undeclared else EXIT_OK


def _emit(text: str) -> None:
    """Print ``text``; a reader that has gone away (``| head -1``) is not an error."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit, which would raise once more: point it at
        # /dev/null (the recipe in the signal module's documentation).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _declarations(args: argparse.Namespace) -> Declarations | None:
    if args.no_config:
        return None
    path: Path | None = args.config
    if path is None:
        beside = args.assembly.resolve().parent / "cdk.json"
        if not beside.is_file():
            return None
        path = beside
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ReadError(f"{path}: cannot read it ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReadError(f"{path}: not valid JSON ({error})") from None
    context = data.get("context") if isinstance(data, Mapping) else None
    block = context.get("stable_fargate") if isinstance(context, Mapping) else None
    if not isinstance(block, Mapping):
        if args.config is not None:
            raise ReadError(f"{path}: has no context.stable_fargate object to read declared differences from")
        return None
    return declarations_from_context(block)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m stable_fargate", description="Read a synthesized CDK app (cdk.out).")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="command")
    _add_drift(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Runner = args.run
    try:
        return run(args)
    except ReadError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
