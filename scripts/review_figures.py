"""README's review figures: the sample app's Prod portfolio-import against the aws_ecs_patterns
fixture on the built-in fintech day, with the same readings (`make review-docs`).

Writes docs/review/{comparison,rollout,cost}.png and prints the figures README quotes.

    python scripts/review_figures.py [CDK_OUT]     # default: cdk.out
"""

from __future__ import annotations

import sys
from pathlib import Path

from stable_fargate.review import charts
from stable_fargate.review.report import Review, ReviewOptions, WorkerReview, build_review

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = ROOT / "tests" / "fixtures" / "patterns"
DOCS = ROOT / "docs" / "review"
PROCESSING_SECONDS = 2.0
"""portfolio-import's declared average processing time (stacks/workers.py), used for both."""
LATENCY_SECONDS = 60.0
"""portfolio-import's acceptable latency (stacks/workers.py), used for both."""


def _worker(review: Review, environment: str, service: str) -> WorkerReview:
    found = review.worker(environment, service)
    if found is None:
        raise SystemExit(f"{environment} {service}: not in the review")
    return found


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else ROOT / "cdk.out"
    options = ReviewOptions(processing={"*": PROCESSING_SECONDS}, latency={"*": LATENCY_SECONDS})
    sample, patterns = build_review(source, options), build_review(PATTERNS, options)
    ours, theirs = _worker(sample, "Prod", "portfolio-import"), _worker(patterns, "Patterns", "patterns-import")
    charts.replay_chart([ours, theirs], DOCS / "comparison.png", labels=["stable_fargate QueueWorker", "aws_ecs_patterns"],
                        title="Prod portfolio-import vs aws_ecs_patterns QueueProcessingFargateService: fintech day")
    rollouts = [r for r in (sample.rollout("Prod", "portfolio-api"), patterns.rollout("Patterns", "patterns-api")) if r]
    charts.rollout_chart(rollouts, DOCS / "rollout.png", title="One rollout batch: StableWebService vs aws_ecs_patterns")
    charts.cost_chart([*sample.costs, *patterns.costs], DOCS / "cost.png")
    print("| | stable_fargate (Prod portfolio-import) | aws_ecs_patterns |")
    print("|---|---|---|")
    for name in ("nightly reconciliation batch", "steady trickle", "morning import burst"):
        cells = []
        for worker in (ours, theirs):
            minute = next(m for event, m in worker.result.events if event == name)
            oldest = max(worker.result.oldest_age[minute:minute + 60])
            cells.append(f"{worker.result.running[minute]} tasks at its start, {worker.result.running[minute + 5]} after 5 min; "
                         f"oldest message within the hour {oldest:,.0f} s")
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    for label, key in (("oldest message (max)", "age"), ("minutes over 60 s", "over"), ("pages (oldest-message alarm)", "pages"),
                       ("task-hours", "hours"), ("scaling actions", "actions")):
        cells = []
        for worker in (ours, theirs):
            result = worker.result
            value = {"age": f"{result.max_age:,.0f} s", "over": str(result.minutes_over(LATENCY_SECONDS)), "pages": str(result.pages),
                     "hours": f"{result.task_hours:.1f}", "actions": str(len(result.reported_actions))}[key]
            cells.append(value)
        print(f"| {label} | {cells[0]} | {cells[1]} |")
    for review, environment, service in ((sample, "Prod", "portfolio-import"), (patterns, "Patterns", "patterns-import")):
        cost = review.cost(environment)
        own = next(s for s in cost.services if s.service == service) if cost else None
        if own is not None:
            print(f"{environment} {service}: monthly min ${own.monthly_min or 0:,.0f}, typical ${own.monthly_typical or 0:,.0f} "
                  f"(replayed day), max ${own.monthly_max or 0:,.0f}")
    for item in rollouts:
        print(f"{item.environment} {item.service}: batch {item.batch} s (start {item.task_start} + warm-up {item.warm_up} + "
              f"to healthy {item.to_healthy} + drain {item.drain}), grace {item.grace} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
