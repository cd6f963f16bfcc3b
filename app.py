#!/usr/bin/env python3
"""The sample app: Registry + Dev, Staging and Prod.

Synth runs the nag packs (a finding fails it) and then the drift guard (an undeclared
difference between the environments' task definitions fails it). This is the only module
that may read the process environment; the constructs take typed inputs.
"""

from aws_cdk import App

from stacks.app import build_app, drift_guard, load_config

app = App()
build_app(app)
assembly = app.synth()
drift_guard(load_config(app)).check(assembly)
