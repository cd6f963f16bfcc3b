"""CDK values the constructs need over and over, each made once per process.

Every CDK call from Python is a round trip to jsii's Node.js process: the request and the
answer are serialised, type-checked and parsed on both sides, and each side waits for the
other. A service made about 140 of them per environment, a third of them for values that never
change: ``Duration.seconds(60)``, ``Port.tcp(443)``, a static constant, or the seconds of a
Duration already asked about. These values are immutable, so one object serves every
construct of every app in the process, and the templates are the same byte for byte.
"""

from __future__ import annotations

import functools
import weakref

from aws_cdk import Duration, Size, Token
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn

TOKEN_MARKER = "${Token["
"""How the CDK encodes a token in a string; a string without it is no token."""

_SECONDS: weakref.WeakKeyDictionary[Duration, float | None] = weakref.WeakKeyDictionary()
"""Seconds of each Duration asked about (None: a token), for as long as the Duration lives."""


@functools.cache
def seconds(amount: float) -> Duration:
    """``Duration.seconds(amount)``, one object per amount; its seconds are known without asking."""
    made = Duration.seconds(amount)
    # What to_seconds(integral=False) answers: a whole number crosses jsii as an int.
    _SECONDS[made] = int(amount) if float(amount).is_integer() else float(amount)
    return made


@functools.cache
def days(amount: int) -> Duration:
    """``Duration.days(amount)``, one object per amount."""
    return Duration.days(amount)


def duration_seconds(value: Duration) -> float | None:
    """``value.to_seconds(integral=False)``, or None when ``value`` is a token; asked once per Duration."""
    if value not in _SECONDS:
        _SECONDS[value] = None if value.is_unresolved() else value.to_seconds(integral=False)
    return _SECONDS[value]


def is_unresolved(value: object) -> bool:
    """``Token.is_unresolved(value)``, without the round trip for what cannot be a token: a
    string without the token marker, a whole number or a bool (number tokens are floats)."""
    if isinstance(value, str) and TOKEN_MARKER not in value:
        return False
    if isinstance(value, int):
        return False
    return bool(Token.is_unresolved(value))


_SNS_ACTIONS: weakref.WeakKeyDictionary[sns.ITopic, cw_actions.SnsAction] = weakref.WeakKeyDictionary()


def sns_action(topic: sns.ITopic) -> cw_actions.SnsAction:
    """One alarm action per topic: an SnsAction holds nothing but its topic's ARN."""
    if topic not in _SNS_ACTIONS:
        _SNS_ACTIONS[topic] = cw_actions.SnsAction(topic)
    return _SNS_ACTIONS[topic]


@functools.cache
def account_principal(account: str) -> iam.AccountPrincipal:
    """One principal per account: it holds nothing but the account."""
    return iam.AccountPrincipal(account)


@functools.cache
def mebibytes(amount: int) -> Size:
    return Size.mebibytes(amount)


@functools.cache
def tcp(port: int) -> ec2.Port:
    return ec2.Port.tcp(port)


@functools.cache
def any_ipv4() -> ec2.IPeer:
    return ec2.Peer.any_ipv4()


@functools.cache
def cpu_architecture(name: str) -> ecs.CpuArchitecture:
    return ecs.CpuArchitecture.of(name)


@functools.cache
def linux() -> ecs.OperatingSystemFamily:
    return ecs.OperatingSystemFamily.LINUX


@functools.cache
def block_all() -> s3.BlockPublicAccess:
    return s3.BlockPublicAccess.BLOCK_ALL


@functools.cache
def json_path_discard() -> str:
    return sfn.JsonPath.DISCARD


@functools.cache
def json_path_execution_id() -> str:
    return sfn.JsonPath.execution_id
