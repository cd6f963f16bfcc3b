"""SF-IMG1: a container image on ``latest``, untagged, or on a moving tag.

Reads every container's Image of a task definition. A digest (``@sha256:...``) is pinned; a
tag is judged by the library's own rule (:func:`stable_fargate.images.check_image_version`:
``latest``, ``defaults.MOVING_TAGS`` such as ``main``, ``stable``, ``prod``, and ``latest-*``,
``main-*``, ``master-*``); no tag means ``latest``. Images built from ``Fn::Join``/``Fn::Sub``
are read with their computed parts unknown: a literal tag at the end is still judged (an
ECR repository's URI joined with ``:latest`` is found). A tag, or a name that may carry one,
that CloudFormation computes (a parameter): not applicable.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from cdk_nag import NagRuleCompliance

from stable_fargate.checks import ecs, values
from stable_fargate.checks.template import Resource
from stable_fargate.errors import ConfigError
from stable_fargate.images import check_image_version

RESOURCE_TYPES = (ecs.TASK_DEFINITION,)


class ImagePin(Enum):
    PINNED = "pinned"
    MOVING = "moving"
    UNKNOWN = "unknown"


def classify(image: Any) -> ImagePin:
    rendered = values.render_string(image)
    if rendered is None:
        return ImagePin.UNKNOWN
    name = rendered.rsplit("/", 1)[-1]  # a registry host's :port sits before the last '/'
    if "@" in name:
        return ImagePin.PINNED
    if ":" not in name:
        return ImagePin.UNKNOWN if values.UNKNOWN in name else ImagePin.MOVING
    tag = name.rsplit(":", 1)[1]
    if values.UNKNOWN in tag:
        return ImagePin.UNKNOWN
    try:
        check_image_version("image", tag)
    except ConfigError:
        return ImagePin.MOVING
    return ImagePin.PINNED


def check(task_definition: Resource) -> NagRuleCompliance:
    pins = {classify(c.get("Image")) for c in ecs.containers(task_definition)}
    if ImagePin.MOVING in pins:
        return NagRuleCompliance.NON_COMPLIANT
    if ImagePin.UNKNOWN in pins or not pins:
        return NagRuleCompliance.NOT_APPLICABLE
    return NagRuleCompliance.COMPLIANT
