"""The read side: what the synthesized templates say about each service's stability.

It reads cdk.out only (manifest.json and the templates), never the constructs, so it works
on any CDK app; nothing here imports aws_cdk: drift between environments
(:mod:`stable_fargate.review.drift`, with what surrounds each task definition in
:mod:`stable_fargate.review.surroundings`) and the stability review; the CLI is
``python -m stable_fargate``.
"""

from stable_fargate.review.drift import Declarations, DriftReport, Row, ServiceDrift, compare, declarations_from_context, render_text
from stable_fargate.review.model import AssemblyModel, ReadError, TaskDefinition, load_assembly, model_from_templates

__all__ = [
    "AssemblyModel",
    "Declarations",
    "DriftReport",
    "ReadError",
    "Row",
    "ServiceDrift",
    "TaskDefinition",
    "compare",
    "declarations_from_context",
    "load_assembly",
    "model_from_templates",
    "render_text",
]
