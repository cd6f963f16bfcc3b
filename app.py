#!/usr/bin/env python3
"""The sample app: Registry + Dev, Staging and Prod.

Synth runs the nag packs and the gate (a finding in any stage fails it; the CDK CLI alone
would only fail on top-level stacks), then the drift guard (an undeclared difference between
the environments' task definitions fails it). This is the only module
that may read the process environment; the constructs take typed inputs.
"""

import sys

from aws_cdk import App

from stable_fargate import ConfigError
from stable_fargate.gate import check_validation_report
from stacks.app import build_app


def main() -> None:
    app = App()
    try:
        built = build_app(app)
        assembly = app.synth()
        check_validation_report(assembly.directory)
        built.drift_guard().check(assembly)
    except ConfigError as error:
        # Bad input is the user's to fix: the message says what; a traceback adds nothing.
        print(f"stable_fargate: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
