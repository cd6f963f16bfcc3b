#!/usr/bin/env python3
"""Mutation testing of the defaults and the constructs with cosmic-ray: `make mutants`.

Each module is mutated in a scratch copy of the work tree (``.mutants/<module>/``, so the
tree you work in is never touched). One coverage run of the module's test files (``MODULES``
below) with per-test contexts tells which tests execute each line; a mutant runs those tests
only (``pytest -x``: it stops at its first failing test), and a mutant that survives them is
run once more against the module's whole list before it counts as a survivor (a line that ran
while a shared fixture was built is attributed to one test only). cosmic-ray's own
``mutate_and_test`` applies each mutant and records the result in its session database.

The snapshot test is never run: a mutant must be caught by a test that says what the value
is for, not by a 12,000-line diff that ``make snapshots`` rewrites.

Which mutants are made. Every operator of cosmic-ray's core set runs (numbers, booleans,
``and``/``or``, ``not``, unary operators, loops, decorators, exceptions), with two
reductions, both usual in mutation testing:

* arithmetic operators are replaced only by their natural counterparts (``+``/``-``,
  ``*``/``/``, ``//`` -> ``*``, ``**`` -> ``*``, ``%`` -> ``//``), and relational operators by
  the boundary and the negation (``<`` -> ``<=`` and ``>=``, ``==`` -> ``!=``, ...): the other
  replacements (``a + b`` -> ``a >> b``) are killed by whatever kills these;
* nothing inside a type annotation is mutated (``int | None`` -> ``int & None``): with
  ``from __future__ import annotations`` they are strings at run time, checked by mypy.

Usage::

    make mutants                                   # every module, two at a time
    python scripts/mutants.py defaults scaling     # some modules
    python scripts/mutants.py --survivors web      # re-run only the last survivors of web.py
    python scripts/mutants.py --report             # print the last results again

It prints, per module, killed/total and the run time, and every survivor with its line.
Results stay in ``.mutants/<module>/session.sqlite`` (``cosmic-ray dump`` reads them).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutants"
BIN = Path(sys.executable).parent

MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (module path, test files that exercise it, fastest first)
    # defaults.py is read at import: no test "covers" a line, so its mutants run the guard table
    # (which needs no fixture: without conftest.py a run takes a second, not the CDK's start-up).
    "defaults": ("stable_fargate/defaults.py", ("--noconftest", "tests/test_defaults.py")),
    "scaling": ("stable_fargate/scaling.py", (
        "tests/test_scaling.py", "tests/test_worker.py", "tests/test_worker_behaviour.py",
    )),
    "alarms": ("stable_fargate/alarms.py", (
        "tests/test_alarms.py", "tests/test_worker.py", "tests/test_job.py", "tests/test_aws_policies.py",
    )),
    "images": ("stable_fargate/images.py", (
        "tests/test_images.py", "tests/test_registry_lifecycle.py", "tests/test_app.py",
    )),
    "network": ("stable_fargate/network.py", (
        "tests/test_network.py", "tests/test_aws_policies.py",
    )),
    "base": ("stable_fargate/services/_base.py", (
        "tests/test_task_base.py", "tests/test_web_service.py", "tests/test_worker.py", "tests/test_job.py",
    )),
    "web": ("stable_fargate/services/web.py", ("tests/test_web_service.py",)),
    "worker": ("stable_fargate/services/worker.py", ("tests/test_worker.py", "tests/test_worker_behaviour.py")),
    "job": ("stable_fargate/services/job.py", ("tests/test_job.py", "tests/test_job_orchestrator.py")),
}

TIMEOUT_SECONDS = 300.0
"""A mutant whose tests run longer than this (an endless loop) counts as killed."""

_ARITHMETIC = {"Add": {"Sub"}, "Sub": {"Add"}, "Mul": {"Div"}, "Div": {"Mul"}, "FloorDiv": {"Mul"}, "Pow": {"Mul"},
               "Mod": {"FloorDiv"}}
_RELATIONAL = {"Lt": {"LtE", "GtE"}, "LtE": {"Lt", "Gt"}, "Gt": {"GtE", "LtE"}, "GtE": {"Gt", "Lt"},
               "Eq": {"NotEq"}, "NotEq": {"Eq"}, "Is": {"IsNot"}, "IsNot": {"Is"}, "In": {"NotIn"}, "NotIn": {"In"}}


def operator_kept(name: str) -> bool:
    """The reduced operator set described in the module docstring."""
    binary = re.fullmatch(r"core/ReplaceBinaryOperator_(\w+?)_(\w+)", name)
    if binary:
        return binary.group(2) in _ARITHMETIC.get(binary.group(1), set())
    relational = re.fullmatch(r"core/ReplaceComparisonOperator_(\w+?)_(\w+)", name)
    if relational:
        return relational.group(2) in _RELATIONAL.get(relational.group(1), set())
    return True


def operator_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of every binary operation: a ``*`` outside one is the keyword-only marker of
    a signature, which cosmic-ray would turn into ``/`` (positional-only): nothing to test."""
    return [
        ((node.lineno, node.col_offset), (node.end_lineno or node.lineno, node.end_col_offset or 0))
        for node in ast.walk(ast.parse(source)) if isinstance(node, (ast.BinOp, ast.AugAssign))
    ]


def annotation_lines(source: str) -> set[tuple[int, int]]:
    """(line, column) positions inside type annotations of ``source``."""
    spans: list[ast.expr] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.arg) and node.annotation is not None:
            spans.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            spans.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            spans.append(node.annotation)
    inside: set[tuple[int, int]] = set()
    for expr in spans:
        for child in ast.walk(expr):
            if isinstance(child, ast.expr):
                inside.add((child.lineno, child.col_offset))
    return inside


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return [f for f in out.splitlines() if f and not f.startswith(".mutants/") and (ROOT / f).is_file()]


def copy_tree(target: Path) -> None:
    """The work tree as it is now (tracked and new files), without caches or the session."""
    for relative in tracked_files():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, destination)


@dataclass
class Outcome:
    module: str
    path: str
    killed: int
    survived: int
    timeouts: int
    skipped: int
    seconds: float
    survivors: list[str]

    @property
    def total(self) -> int:
        return self.killed + self.survived


def config_text(path: str, tests: tuple[str, ...]) -> str:
    return (
        "[cosmic-ray]\n"
        f'module-path = "{path}"\n'
        f"timeout = {TIMEOUT_SECONDS}\n"
        "excluded-modules = []\n"
        f'test-command = "{pytest_command(tests)}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )


def pytest_command(tests: tuple[str, ...] | list[str]) -> str:
    return f"{BIN / 'python'} -m pytest -x -q -p no:cacheprovider --no-header {' '.join(tests)}"


def tool_env(cwd: Path) -> dict[str, str]:
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONPATH=str(cwd))


def cosmic_ray(*args: str, cwd: Path) -> None:
    subprocess.run([str(BIN / "cosmic-ray"), *args], cwd=cwd, check=True, env=tool_env(cwd),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


COVERAGE_RC = """[run]
source = stable_fargate
dynamic_context = test_function
"""


def covering_tests(workdir: Path, path: str, tests: tuple[str, ...]) -> dict[int, list[str]]:
    """line of ``path`` -> the test functions that executed it (one coverage run of the
    module's tests with per-test contexts). Lines run only at import (module-level
    constants, default arguments) have none: their mutants run the module's whole list."""
    (workdir / ".coveragerc-mutants").write_text(COVERAGE_RC, encoding="utf-8")
    env = tool_env(workdir)
    subprocess.run(
        [str(BIN / "python"), "-m", "coverage", "run", "--rcfile=.coveragerc-mutants", "-m", "pytest", "-q",
         "-p", "no:cacheprovider", *tests],
        cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [str(BIN / "python"), "-m", "coverage", "json", "--rcfile=.coveragerc-mutants", "--show-contexts", "-o", "coverage.json"],
        cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    files = json.loads((workdir / "coverage.json").read_text(encoding="utf-8"))["files"]
    contexts: dict[str, list[str]] = files.get(path, {}).get("contexts", {})
    by_line: dict[int, list[str]] = {}
    for line, names in contexts.items():
        nodes = sorted({node for node in (_node_id(name) for name in names) if node})
        if nodes:
            by_line[int(line)] = nodes
    return by_line


def _node_id(context: str) -> str | None:
    """'tests.test_web_service.test_x' -> 'tests/test_web_service.py::test_x'."""
    if not context.startswith("tests."):
        return None
    parts = context.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = Path(*parts[:cut]).with_suffix(".py")
        if (ROOT / module).is_file():
            return f"{module}::{'::'.join(parts[cut:])}"
    return None


def skip_filtered(db: Path, source: str) -> None:
    """Mark the mutants outside the reduced set, or inside annotations, as skipped."""
    annotations = annotation_lines(source)
    operations = operator_spans(source)

    def outside_operations(operator: str, row: int, col: int) -> bool:
        return operator.startswith("core/ReplaceBinaryOperator_") and not any(
            start <= (row, col) < end for start, end in operations
        )

    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT s.job_id, s.operator_name, s.start_pos_row, s.start_pos_col FROM mutation_specs s "
            "LEFT JOIN work_results r ON r.job_id = s.job_id WHERE r.job_id IS NULL"
        ).fetchall()
        skipped = [
            (job_id,) for job_id, operator, row, col in rows
            if not operator_kept(operator) or (row, col) in annotations or outside_operations(operator, row, col)
        ]
        connection.executemany(
            "INSERT INTO work_results (worker_outcome, output, test_outcome, diff, job_id) "
            "VALUES ('SKIPPED', 'filtered by scripts/mutants.py', NULL, NULL, ?)",
            skipped,
        )


def forget_survivors(db: Path) -> list[str]:
    """Make the last run's survivors pending again; return their ids."""
    with sqlite3.connect(db) as connection:
        ids = [row[0] for row in connection.execute("SELECT job_id FROM work_results WHERE test_outcome = 'SURVIVED'")]
        connection.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    return ids


def summarise(name: str, path: str, workdir: Path, seconds: float) -> Outcome:
    lines = (workdir / path).read_text(encoding="utf-8").splitlines()
    with sqlite3.connect(workdir / "session.sqlite") as connection:
        rows = connection.execute(
            "SELECT s.operator_name, s.start_pos_row, s.start_pos_col, r.worker_outcome, r.test_outcome "
            "FROM mutation_specs s JOIN work_results r ON r.job_id = s.job_id"
        ).fetchall()
    killed = survived = timeouts = skipped = 0
    survivors: list[str] = []
    for operator, row, col, worker, test in rows:
        if worker == "SKIPPED":
            skipped += 1
        elif test == "SURVIVED":
            survived += 1
            survivors.append(f"{path}:{row}:{col} {operator.removeprefix('core/')}: {lines[row - 1].strip()[:110]}")
        else:
            killed += 1
            timeouts += worker == "ABNORMAL"
    return Outcome(name, path, killed, survived, timeouts, skipped, seconds, sorted(survivors, key=_line_order))


def _line_order(text: str) -> tuple[int, int]:
    _, row, rest = text.split(":", 2)
    return int(row), int(rest.split(" ", 1)[0])


def work(name: str, sample: int | None = None) -> None:
    """Run every pending mutant of ``name`` (in its scratch copy, the current directory),
    each against the tests that cover its lines, through cosmic-ray's own mutate-and-test."""
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    _, tests = MODULES[name]
    by_line = {int(k): v for k, v in json.loads(Path("covering.json").read_text(encoding="utf-8")).items()}
    order = {test: index for index, test in enumerate(tests)}
    with use_db("session.sqlite", mode=WorkDB.Mode.open) as db:
        pending = list(db.pending_work_items)
        rerun = Path("rerun.json")
        if rerun.is_file():  # --survivors: only the last run's survivors, not mutants never run
            wanted = set(json.loads(rerun.read_text(encoding="utf-8")))
            pending = [item for item in pending if item.job_id in wanted]
        if sample is not None:  # a fixed random sample: the same mutants on every run
            pending = sorted(random.Random(0).sample(sorted(pending, key=lambda i: i.job_id), min(sample, len(pending))),
                             key=lambda i: i.job_id)
        for item in pending:
            (mutation,) = item.mutations
            first, last = mutation.start_pos[0], mutation.end_pos[0]
            selected = sorted({t for line in range(first, last + 1) for t in by_line.get(line, [])},
                              key=lambda t: (order.get(t.split("::")[0], len(order)), t))
            result = mutate_and_test(item.mutations, pytest_command(selected or list(tests)), TIMEOUT_SECONDS)
            if selected and result.test_outcome == TestOutcome.SURVIVED:
                # Confirm a survivor against the module's whole list: a line that ran while a
                # shared fixture was set up is attributed to one test only, not to every test
                # that reads what the fixture built.
                result = mutate_and_test(item.mutations, pytest_command(list(tests)), TIMEOUT_SECONDS)
            db.set_result(item.job_id, result)


def run_module(name: str, *, survivors_only: bool, sample: int | None = None, resume: bool = False) -> Outcome:
    path, tests = MODULES[name]
    workdir = SCRATCH / name
    db = workdir / "session.sqlite"
    start = time.perf_counter()
    keep = (survivors_only or resume) and db.is_file()
    earlier = 0.0
    if keep and (workdir / "summary.json").is_file():  # run time adds up over resumed runs
        earlier = float(json.loads((workdir / "summary.json").read_text(encoding="utf-8"))["seconds"])
    if keep:  # the current tree, the last session's results
        kept = db.read_bytes()
        rerun = workdir / "rerun.json"
        unfinished = json.loads(rerun.read_text(encoding="utf-8")) if survivors_only and rerun.is_file() else []
        shutil.rmtree(workdir)
        copy_tree(workdir)
        db.write_bytes(kept)
        if survivors_only:  # with the survivors an interrupted --survivors run left pending
            rerun.write_text(json.dumps(sorted({*unfinished, *forget_survivors(db)})), encoding="utf-8")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
        copy_tree(workdir)
    (workdir / "cosmic-ray.toml").write_text(config_text(path, tests), encoding="utf-8")
    if not keep:
        cosmic_ray("init", "cosmic-ray.toml", "session.sqlite", cwd=workdir)
    skip_filtered(db, (workdir / path).read_text(encoding="utf-8"))
    # The unmutated tests must pass; their coverage picks each mutant's tests.
    by_line = covering_tests(workdir, path, tests)
    (workdir / "covering.json").write_text(json.dumps(by_line), encoding="utf-8")
    worker = [str(BIN / "python"), str(Path(__file__).resolve()), "--work", name]
    if sample is not None and not survivors_only:
        worker += ["--sample", str(sample)]
    subprocess.run(worker, cwd=workdir, env=tool_env(workdir), check=True)
    outcome = summarise(name, path, workdir, earlier + time.perf_counter() - start)
    (workdir / "summary.json").write_text(json.dumps(outcome.__dict__, indent=1), encoding="utf-8")
    return outcome


def report_only(name: str) -> Outcome:
    """The results so far of ``name`` (a run still going, or stopped, counts what it finished)."""
    summary = SCRATCH / name / "summary.json"
    seconds = float(json.loads(summary.read_text(encoding="utf-8"))["seconds"]) if summary.is_file() else 0.0
    return summarise(name, MODULES[name][0], SCRATCH / name, seconds)


def print_report(outcomes: list[Outcome]) -> None:
    print(f"\nmutation testing, {date.today().isoformat()} (cosmic-ray; snapshot test excluded)\n")
    print("| module | killed / total | killed % | survivors | run time |")
    print("|---|---|---|---|---|")
    for o in outcomes:
        share = 100 * o.killed / o.total if o.total else 100.0
        print(f"| `{o.path}` | {o.killed} / {o.total} | {share:.1f} % | {o.survived} | {o.seconds / 60:.1f} min |")
    for o in outcomes:
        if o.survivors:
            print(f"\nsurvivors in {o.path}:")
            for survivor in o.survivors:
                print(f"  {survivor}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"modules to mutate, of {', '.join(MODULES)} (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTANTS_JOBS", "2")), help="modules at a time")
    parser.add_argument("--survivors", action="store_true", help="re-run only the survivors of the last run")
    parser.add_argument("--report", action="store_true", help="print the last results without running anything")
    parser.add_argument("--sample", type=int, help="run a fixed random sample of this many mutants per module")
    parser.add_argument("--resume", action="store_true", help="keep the last session's results; run what is pending")
    parser.add_argument("--work", help=argparse.SUPPRESS)  # internal: the worker of one module, in its scratch copy
    args = parser.parse_args()
    if args.work:
        work(args.work, args.sample)
        return 0
    names = args.modules or list(MODULES)
    unknown = sorted(set(names) - set(MODULES))
    if unknown:
        parser.error(f"unknown modules {unknown}; choose from {', '.join(MODULES)}")
    if args.report:
        outcomes = [report_only(n) for n in names if (SCRATCH / n / "session.sqlite").is_file()]
    else:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            outcomes = list(pool.map(lambda n: run_module(n, survivors_only=args.survivors, sample=args.sample, resume=args.resume), names))
    print_report(outcomes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
