#!/usr/bin/env python3
"""The sample app: Registry + Dev, Staging and Prod. The only place that reads the process
environment (CDK_OUTDIR is set by the CDK CLI and read by cdk.App itself)."""

from aws_cdk import App

from stacks.app import build_app

app = App()
build_app(app)
app.synth()
