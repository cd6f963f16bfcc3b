#!/usr/bin/env python3
"""Write RULES.md from the pack's rule table (stable_fargate/checks/pack.py).

A test fails when RULES.md and the pack disagree; run this to bring RULES.md up to date.
"""

from __future__ import annotations

from pathlib import Path

from stable_fargate.checks import rules_markdown

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    (ROOT / "RULES.md").write_text(rules_markdown(), encoding="utf-8")


if __name__ == "__main__":
    main()
