#!/usr/bin/env python3
"""The sample app: Registry + Dev, Staging and Prod.

Synth runs the nag packs (a finding fails it) and then the drift guard (an undeclared
difference between the environments' task definitions fails it). This is the only module
that may read the process environment; the constructs take typed inputs.
"""

import sys

from aws_cdk import App

from stable_fargate import ConfigError
from stacks.app import build_app


def main() -> None:
    app = App()
    try:
        built = build_app(app)
        built.drift_guard().check(app.synth())
    except ConfigError as error:
        # Bad input is the user's to fix: the message says what; a traceback adds nothing.
        print(f"stable_fargate: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
