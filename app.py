#!/usr/bin/env python3
"""The sample app: Registry + Dev, Staging and Prod, on the library's entry point.

``run`` synthesizes with the nag packs, fails on a finding in any stage (the CDK CLI alone
would only fail on top-level stacks) and on undeclared drift between the environments, and
prints a ConfigError as one message, without a traceback. This is the only module that may
read the process environment; the constructs take typed inputs.
"""

from stable_fargate.app import run
from stacks.app import build_app

if __name__ == "__main__":
    run(build_app)
