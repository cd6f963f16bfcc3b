"""``python -m stable_fargate``: the read side's command line.

    python -m stable_fargate drift cdk.out [--json] [--all] [--config cdk.json | --no-config]
    python -m stable_fargate review cdk.out [--base OLD] [--out review-out] [--json] [--trace FILE] ...

drift exit codes: 0 no undeclared drift, 1 undeclared drift, 2 unreadable input (one line on
stderr, never a traceback). review exit codes: 0 report written, 1 report written with
findings and ``--strict``, 2 unreadable input (cdk.out, base, trace or price
file). With only one environment there is nothing to compare: the
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

from stable_fargate import __version__
from stable_fargate.review.drift import Declarations, compare, declarations_from_context, render_text
from stable_fargate.review.model import ReadError, load_assembly
from stable_fargate.review.pricing import PriceError
from stable_fargate.review.traces import TraceError

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


def _per_service(text: str) -> tuple[str, float]:
    """``SERVICE=SECONDS`` or ``SECONDS`` (every worker) for a repeatable option."""
    name, _, value = text.rpartition("=")
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SECONDS or SERVICE=SECONDS, got {text!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"seconds must be a positive number, got {value!r}")
    return (name or "*"), seconds


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected whole seconds >= 0, got {text!r}")
    return value


def _add_review(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "review",
        help="stability review: rollout timeline, scaling replay, cost, and the diff against an older synth",
        description="What a synthesized app (or a change to it) does to rollouts, scaling and cost, from the templates alone. "
        "Writes report.md, report.json and PNG charts to --out; prints the Markdown (or JSON).",
    )
    parser.add_argument("assembly", type=Path, help="the cdk.out directory (or a snapshot directory, or a template)")
    parser.add_argument("--base", type=Path, default=None,
                        help="an older cdk.out or snapshot directory (tests/__snapshots__/test_snapshots/): report what changed")
    parser.add_argument("--out", type=Path, default=Path("review-out"),
                        help="where report.md, report.json and charts go (default: review-out)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of Markdown")
    parser.add_argument("--no-charts", action="store_true", help="write no PNG charts")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the report has findings")
    parser.add_argument("--trace", type=Path, default=None,
                        help="a CSV trace (minute,messages or time,messages) instead of the built-in fintech day")
    parser.add_argument("--days", type=int, default=1, help="replay the built-in day this many times (default 1)")
    parser.add_argument("--metric-lag", type=_non_negative, default=60, metavar="SECONDS",
                        help="how late datapoints reach alarms (default 60)")
    parser.add_argument("--insights-at-zero", action="store_true",
                        help="Container Insights publishes 0 for a service with no task (default: it publishes nothing)")
    parser.add_argument("--sqs-idle-stop", action="store_true",
                        help="SQS stops publishing for a queue idle 6 h and resumes 15 min after it is used again")
    parser.add_argument("--task-start", type=_non_negative, default=60, metavar="SECONDS",
                        help="from a scaling action to a running task (default 60)")
    parser.add_argument("--processing-time", type=_per_service, action="append", default=[], metavar="[SERVICE=]SECONDS",
                        help="a worker's average processing time per message (default: template metadata, else 1 s)")
    parser.add_argument("--acceptable-latency", type=_per_service, action="append", default=[], metavar="[SERVICE=]SECONDS",
                        help="a worker's latency goal (default: template metadata, else its oldest-message alarm)")
    parser.add_argument("--prices", type=Path, default=None, help="a JSON price table instead of the built-in one")
    parser.add_argument("--region", default=None, help="the region of environments whose templates name none")
    parser.set_defaults(run=_run_review)


def _run_review(args: argparse.Namespace) -> int:
    # Imported here: drift stays quick to start, and matplotlib loads only for a review.
    try:
        from stable_fargate.review.cli import run_review
    except ModuleNotFoundError as error:
        raise ReadError(f"the review needs {error.name}: pip install \"stable-fargate[review]\"") from None

    text, findings = run_review(args)
    _emit(text)
    return EXIT_DRIFT if (findings and args.strict) else EXIT_OK


def _add_init(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "init",
        help="write a new CDK app on stable_fargate into DIR",
        description="Write a new own app: app.py on the entry point, cdk.json with a stable_fargate block for two "
        "environments (staging, prod) and its JSON Schema, requirements, the CDK CLI pin, a Makefile and a README. "
        "It synthesizes nag-clean as written, offline.",
    )
    parser.add_argument("directory", type=Path, help="a new or empty directory")
    parser.add_argument("--name", default=None, help="the app's name (default: the directory's name)")
    parser.set_defaults(run=_run_init)


def _run_init(args: argparse.Namespace) -> int:
    from stable_fargate.scaffold import write_scaffold

    try:
        written = write_scaffold(args.directory, name=args.name)
    except ValueError as error:
        raise ReadError(str(error)) from None
    _emit("\n".join([f"wrote {path}" for path in written] + ["next: cd into it and run `make synth`"]))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stable_fargate",
        description="Read a synthesized CDK app (cdk.out): drift, review; or start a new one: init.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="command")
    _add_drift(subparsers)
    _add_review(subparsers)
    _add_init(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Runner = args.run
    try:
        return run(args)
    except (ReadError, TraceError, PriceError) as error:
        print(f"error: {error}", file=sys.stderr)
    except RecursionError:
        print("error: the input is nested too deeply to read (is it a CloudFormation template?)", file=sys.stderr)
    except OSError as error:
        # Writing the report (a full disk, an unwritable --out): still one line.
        print(f"error: {error.filename or ''}: {error.strerror or error}".replace("\0", "\\0"), file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
