"""The run-time type checks of public constructors: every class of value, and the messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import pytest
from aws_cdk import App, Duration, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from stable_fargate import ConfigError
from stable_fargate._typecheck import checked_inputs, conforms, describe
from stable_fargate.errors import shown


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(App(), "S")


def test_whole_numbers_refuse_bools_floats_and_strings_but_pass_number_tokens(stack: Stack) -> None:
    assert conforms(3, int)
    for bad in (True, 3.0, "3", None):
        assert not conforms(bad, int), bad
    assert conforms(Token.as_number(stack.account), int)  # a token where the CDK allows one
    assert conforms(2.5, float) and conforms(2, float) and not conforms(False, float)


def test_a_string_is_never_a_list_of_strings() -> None:
    assert conforms(["a", "b"], Sequence[str]) and conforms(("a",), Sequence[str])
    assert not conforms("ab", Sequence[str])
    # Every item is checked, not a sample: one wrong item among many is found.
    assert not conforms(["a"] * 500 + [1] + ["b"] * 500, Sequence[str])


def test_mappings_unions_literals_and_tuples() -> None:
    assert conforms({"A": "b"}, Mapping[str, str]) and not conforms({"A": 1}, Mapping[str, str])
    assert conforms(None, str | None) and conforms("x", str | None) and not conforms(1, str | None)
    assert conforms("ssm", Literal["ssm", "secretsmanager"]) and not conforms("s3", Literal["ssm", "secretsmanager"])
    assert conforms((1, "a"), tuple[int, str]) and not conforms((1, 2), tuple[int, str])


def test_jsii_interfaces_are_checked_by_what_the_object_implements(stack: Stack) -> None:
    topic = sns.Topic(stack, "Topic")
    imported = sns.Topic.from_topic_arn(stack, "Imported", "arn:aws:sns:eu-west-2:111111111111:x")
    key = kms.Key(stack, "Key")
    assert conforms(topic, sns.ITopic) and conforms(imported, sns.ITopic)
    assert not conforms(key, sns.ITopic) and not conforms("arn:aws:sns:...", sns.ITopic)
    assert conforms(key, kms.IKey)
    assert conforms([topic, imported], Sequence[sns.ITopic])
    assert conforms(Duration.seconds(1), Duration) and not conforms(30, Duration)


def test_imported_objects_are_checked_by_the_interfaces_behind_their_proxy(stack: Stack) -> None:
    """An imported key is jsii's InterfaceDynamicProxy, not a class that declares kms.IKey."""
    imported = kms.Key.from_key_arn(stack, "ImportedKeyProxy", "arn:aws:kms:eu-west-2:111111111111:key/abcd")
    assert type(imported).__name__ == "InterfaceDynamicProxy"
    assert conforms(imported, kms.IKey)
    assert not conforms(imported, ec2.IVpc)
    assert not conforms(imported, sns.ITopic)


def test_descriptions_read_as_words() -> None:
    assert describe(int) == "a whole number"
    assert describe(Sequence[str]) == "a list of strings"
    assert describe(Sequence[ec2.ISecurityGroup]) == "a list of ec2.ISecurityGroup values"
    assert describe(ec2.IVpc) == "an ec2.IVpc"
    assert describe(Duration) == "a Duration"
    assert describe(sns.ITopic | None) == "a sns.ITopic (or None)"


class _Thing(Construct):
    @checked_inputs
    def __init__(self, scope: Construct, construct_id: str, *, service_name: str, count: int, topic: sns.ITopic | None = None) -> None:
        super().__init__(scope, construct_id)
        self.count = count


def test_a_decorated_constructor_refuses_with_the_service_and_field(stack: Stack) -> None:
    assert _Thing(stack, "Ok", service_name="svc", count=2).count == 2
    with pytest.raises(ConfigError) as error:
        _Thing(stack, "Bad", service_name="svc", count=True)  # type: ignore[arg-type]
    assert (error.value.subject, error.value.field, error.value.value) == ("svc", "count", True)
    assert "Give a whole number." in str(error.value)
    with pytest.raises(ConfigError, match="Bad2: service_name=5"):
        _Thing(stack, "Bad2", service_name=5, count=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="topic="):
        _Thing(stack, "Bad3", service_name="svc", count=1, topic="arn:aws:sns:x")  # type: ignore[arg-type]


def test_tokens_are_shown_as_tokens(stack: Stack) -> None:
    assert shown(Token.as_number(stack.account)) == "<token>"
    assert shown(f"arn:aws:sns:{stack.region}:x") == "'arn:aws:sns:<token>:x'"
    assert shown("x" * 500).endswith("...") and len(shown("x" * 500)) == 200
