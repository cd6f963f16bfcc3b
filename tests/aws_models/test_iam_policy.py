"""The resource-policy evaluator, one documented rule per test, with the IAM User Guide's own
examples where it gives some."""

from __future__ import annotations

from typing import Any

import pytest

from tests.aws_models.iam_policy import (
    Decision,
    PolicyModelError,
    Principal,
    Request,
    endpoint_kind,
    endpoint_policy,
    endpoint_policy_problems,
    endpoint_serving,
    evaluate_identity,
    key_policy,
    may,
    queue_policy,
    repository_policy,
    role_policy,
    topic_key_arn,
    topic_policy,
)
from tests.aws_models.intrinsics import Environment, Resolver

ACCOUNT = "111122223333"
OTHER = "444455556666"
TOPIC = f"arn:aws:sns:eu-west-2:{ACCOUNT}:alarms"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deployer"
ME = Principal.iam(ROLE)
CLOUDWATCH = Principal.service("cloudwatch.amazonaws.com")


def statement(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC} | fields


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allowed(
    doc: dict[str, Any],
    principal: Principal = ME,
    /,
    *,
    action: str = "sns:Publish",
    resource: str = TOPIC,
    context: dict[str, Any] | None = None,
    **keys: Any,
) -> bool:
    """``keys`` spell context keys with ``__`` for ``:`` (aws__SourceArn=...)."""
    merged = (context or {}) | {k.replace("__", ":"): v for k, v in keys.items()}
    return may(doc, principal, action, resource, merged).allowed


# --- evaluation logic ---------------------------------------------------------------------


def test_explicit_deny_wins_else_allow_else_implicit_deny() -> None:
    allow = statement(Sid="Allow")
    deny = statement(Sid="Deny", Effect="Deny")
    assert may(policy(allow), ME, "sns:Publish", TOPIC) == Decision(True, "allowed", ("Allow",))
    assert may(policy(allow, deny), ME, "sns:Publish", TOPIC) == Decision(False, "explicit deny", ("Deny",))
    assert may(policy(), ME, "sns:Publish", TOPIC) == Decision(False, "implicit deny")
    # Statements without a Sid are named by position; a single statement object is accepted.
    assert may({"Statement": statement()}, ME, "sns:Publish", TOPIC).statements == ("#0",)


# --- Principal ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "principal", "expected"),
    [
        ("*", Principal.anonymous(), True),
        ({"AWS": "*"}, CLOUDWATCH, True),  # equivalent to "*"
        ({"AWS": ACCOUNT}, ME, True),  # an account: any principal of it (the documented simplification)
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, ME, True),
        ({"AWS": f"arn:aws:iam::{OTHER}:root"}, ME, False),
        ({"AWS": ROLE}, ME, True),
        ({"AWS": ROLE}, Principal.iam(f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-run-7"), True),
        ({"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"}, ME, False),
        ({"AWS": ACCOUNT}, CLOUDWATCH, False),  # a service is not a principal of the account
        ({"Service": "cloudwatch.amazonaws.com"}, CLOUDWATCH, True),
        ({"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]}, CLOUDWATCH, True),
        ({"Service": "events.amazonaws.com"}, CLOUDWATCH, False),
        ({"Service": "cloudwatch.amazonaws.com"}, ME, False),
        ({"AWS": ACCOUNT}, Principal.undocumented("someone"), False),
        ("*", Principal.undocumented("someone"), True),
    ],
)
def test_principal(block: Any, principal: Principal, expected: bool) -> None:
    assert allowed(policy(statement(Principal=block)), principal) is expected


def test_not_principal() -> None:
    deny_others = statement(Effect="Deny", NotPrincipal={"AWS": ROLE})
    del deny_others["Principal"]
    doc = policy(statement(), deny_others)
    assert allowed(doc, ME)
    assert not allowed(doc, Principal.iam(f"arn:aws:iam::{ACCOUNT}:role/intruder"))


def test_gateway_endpoint_account_principal_is_the_root_user_only() -> None:
    # PrivateLink guide: on a gateway endpoint "AWS": "<account>" grants the root user only;
    # on an interface endpoint it means every user and role of the account.
    doc = policy(statement(Principal={"AWS": ACCOUNT}, Action="s3:GetObject", Resource="*"))
    assert not may(doc, ME, "s3:GetObject", "arn:aws:s3:::b/k", endpoint="gateway").allowed
    assert may(doc, Principal.root(ACCOUNT), "s3:GetObject", "arn:aws:s3:::b/k", endpoint="gateway").allowed
    assert may(doc, ME, "s3:GetObject", "arn:aws:s3:::b/k", endpoint="interface").allowed


def test_unmodelled_principals_raise() -> None:
    with pytest.raises(PolicyModelError, match="Federated"):
        allowed(policy(statement(Principal={"Federated": "cognito-identity.amazonaws.com"})))
    with pytest.raises(PolicyModelError, match="Principal or NotPrincipal"):
        allowed(policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    with pytest.raises(PolicyModelError, match="Principal or NotPrincipal"):
        allowed(policy(statement(NotPrincipal={"AWS": ROLE})))


# --- Action and Resource ------------------------------------------------------------------


def test_actions_are_case_insensitive_with_wildcards() -> None:
    assert allowed(policy(statement(Action="SNS:publish")))  # "iam:ListAccessKeys is the same as IAM:listaccesskeys"
    assert allowed(policy(statement(Action="kms:GenerateDataKey*")), action="kms:GenerateDataKeyWithoutPlaintext")
    assert allowed(policy(statement(Action="sns:Pub?ish")))
    assert not allowed(policy(statement(Action="sns:Subscribe")))
    assert allowed(policy(statement(Action=["sqs:*", "sns:*"])))
    assert allowed(policy(statement(Action="*")))
    not_action = policy(statement(NotAction="sns:Subscribe", Action=None))
    del not_action["Statement"][0]["Action"]
    assert allowed(not_action)
    assert not allowed(not_action, action="sns:Subscribe")


def test_resources_are_case_sensitive_with_wildcards_and_not_resource() -> None:
    assert allowed(policy(statement(Resource=f"arn:aws:sns:*:{ACCOUNT}:*")))
    assert not allowed(policy(statement(Resource=TOPIC.upper())))
    assert not allowed(policy(statement(Resource=f"arn:aws:sns:eu-west-2:{OTHER}:alarms")))
    no_resource = statement()
    del no_resource["Resource"]
    assert allowed(policy(no_resource))  # ECR repository policies name no Resource: the repository itself
    not_resource = statement(NotResource=f"arn:aws:sns:eu-west-2:{ACCOUNT}:secret-*")
    del not_resource["Resource"]
    assert allowed(policy(not_resource))
    assert not allowed(policy(not_resource), resource=f"arn:aws:sns:eu-west-2:{ACCOUNT}:secret-1")


# --- Condition ----------------------------------------------------------------------------


def conditioned(condition: dict[str, Any]) -> dict[str, Any]:
    return policy(statement(Condition=condition))


def test_docs_example_principal_tag() -> None:
    # condition operators page: StringEquals aws:PrincipalTag/job-category = iamuser-admin; absent tag -> no match.
    doc = conditioned({"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}})
    assert allowed(doc, context={"aws:PrincipalTag/job-category": "iamuser-admin"})
    assert not allowed(doc, context={"aws:PrincipalTag/job-category": "dev"})
    assert not allowed(doc)


def test_several_values_or_several_keys_and_operators_and() -> None:
    doc = conditioned(
        {
            "StringEquals": {"aws:SourceAccount": [ACCOUNT, OTHER], "aws:PrincipalServiceName": "cloudwatch.amazonaws.com"},
            "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-2:{ACCOUNT}:alarm:*"},
        }
    )
    alarm = f"arn:aws:cloudwatch:eu-west-2:{ACCOUNT}:alarm:prod-dlq"
    ok: dict[str, Any] = {"aws:SourceAccount": OTHER, "aws:PrincipalServiceName": "cloudwatch.amazonaws.com", "aws:SourceArn": alarm}
    assert allowed(doc, context=ok)
    assert not allowed(doc, context=ok | {"aws:SourceAccount": "999999999999"})
    assert not allowed(doc, context=ok | {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:x"})


@pytest.mark.parametrize(
    ("operator_name", "expected_when_absent"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("ArnLike", False),
        ("ArnEquals", False),
        ("StringNotEquals", True),  # documented: negated operators match a missing key
        ("StringNotLike", True),
        ("ArnNotLike", True),
        ("ArnNotEquals", True),
        ("StringEqualsIfExists", True),
        ("ArnLikeIfExists", True),
        ("ForAllValues:StringEquals", True),  # empty set: ForAllValues true
        ("ForAnyValue:StringEquals", False),  # empty set: ForAnyValue false
    ],
)
def test_missing_key(operator_name: str, expected_when_absent: bool) -> None:
    value = f"arn:aws:cloudwatch:eu-west-2:{ACCOUNT}:alarm:x"
    assert allowed(conditioned({operator_name: {"aws:SourceArn": value}})) is expected_when_absent


def test_negated_operators_mean_none_of_the_values() -> None:
    doc = conditioned({"StringNotEquals": {"aws:SourceAccount": [ACCOUNT, OTHER]}})
    assert not allowed(doc, aws__SourceAccount=ACCOUNT)
    assert not allowed(doc, aws__SourceAccount=OTHER)
    assert allowed(doc, aws__SourceAccount="999999999999")


def test_string_operators() -> None:
    assert allowed(conditioned({"StringEqualsIgnoreCase": {"aws:SourceVpce": "VPCE-1"}}), aws__SourceVpce="vpce-1")
    assert not allowed(conditioned({"StringEquals": {"aws:SourceVpce": "VPCE-1"}}), aws__SourceVpce="vpce-1")
    assert allowed(conditioned({"StringNotEqualsIgnoreCase": {"aws:SourceVpce": "VPCE-1"}}), aws__SourceVpce="vpce-2")
    assert allowed(conditioned({"StringLike": {"aws:SourceVpce": "vpce-?a*"}}), aws__SourceVpce="vpce-1abc")
    assert not allowed(conditioned({"StringLike": {"aws:SourceVpce": "vpce-?a*"}}), aws__SourceVpce="vpce-1bc")
    # Condition key names are case-insensitive.
    assert allowed(conditioned({"StringEquals": {"AWS:SOURCEVPCE": "vpce-1"}}), aws__SourceVpce="vpce-1")


def test_arn_operators_match_each_of_the_six_parts() -> None:
    doc = conditioned({"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:eu-west-2:{ACCOUNT}:alarm:*"}})
    assert allowed(doc, aws__SourceArn=f"arn:aws:cloudwatch:eu-west-2:{ACCOUNT}:alarm:prod-dlq")
    assert not allowed(doc, aws__SourceArn=f"arn:aws:cloudwatch:eu-west-2:{OTHER}:alarm:prod-dlq")
    assert not allowed(doc, aws__SourceArn="not-an-arn")
    region_wildcard = conditioned({"ArnEquals": {"aws:SourceArn": f"arn:aws:cloudwatch:*:{ACCOUNT}:alarm:prod-dlq"}})
    assert allowed(region_wildcard, aws__SourceArn=f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:prod-dlq")
    assert allowed(conditioned({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::*"}}), aws__SourceArn=TOPIC)


def test_bool_as_cdk_writes_the_tls_only_deny() -> None:
    # CDK enforce_ssl: Deny sns:Publish to "*" when aws:SecureTransport is "false".
    tls_only = policy(
        statement(Sid="Allow"),
        statement(Sid="AllowPublishThroughSSLOnly", Effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}),
    )
    assert not allowed(tls_only, aws__SecureTransport="false")
    assert not allowed(tls_only, aws__SecureTransport=False)
    assert allowed(tls_only, aws__SecureTransport="true")
    assert allowed(tls_only)  # a missing key does not match "false": the deny does not apply


def test_null_checks_presence() -> None:
    absent_required = conditioned({"Null": {"aws:SourceArn": "true"}})
    assert allowed(absent_required)
    assert not allowed(absent_required, aws__SourceArn=TOPIC)
    assert allowed(conditioned({"Null": {"aws:SourceArn": "false"}}), aws__SourceArn=TOPIC)


def test_numeric_and_ip_operators() -> None:
    assert allowed(conditioned({"NumericLessThanEquals": {"s3:max-keys": "10"}}), context={"s3:max-keys": "10"})
    assert not allowed(conditioned({"NumericLessThan": {"s3:max-keys": "10"}}), context={"s3:max-keys": "10"})
    assert allowed(conditioned({"NumericGreaterThan": {"s3:max-keys": 1}}), context={"s3:max-keys": 2})
    assert allowed(conditioned({"NumericNotEquals": {"s3:max-keys": "3"}}), context={"s3:max-keys": "4"})
    assert not allowed(conditioned({"NumericEquals": {"s3:max-keys": "3"}}), context={"s3:max-keys": "three"})
    assert allowed(conditioned({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), aws__SourceIp="10.1.2.3")
    assert allowed(conditioned({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), aws__SourceIp="192.168.0.1")


def test_docs_example_for_all_values_and_for_any_value() -> None:
    # multi-value conditions page: ForAllValues allows only requests whose every attribute is listed.
    only_listed = conditioned({"ForAllValues:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]}})
    assert allowed(only_listed, dynamodb__requestedAttributes=["PostDateTime", "Message"])
    assert not allowed(only_listed, dynamodb__requestedAttributes=["PostDateTime", "UserName"])
    # ForAnyValue: one match among UserName, Message, PostDateTime is enough for the Deny.
    deny_any = policy(
        statement(Sid="Allow"),
        statement(
            Sid="Deny", Effect="Deny", Condition={"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}}
        ),
    )
    assert not allowed(deny_any, dynamodb__requestedAttributes=["UserName", "Message", "PostDateTime"])
    assert allowed(deny_any, dynamodb__requestedAttributes=["UserName"])


def test_what_the_model_refuses_to_guess() -> None:
    with pytest.raises(PolicyModelError, match="ForAnyValue"):
        allowed(conditioned({"StringEquals": {"aws:TagKeys": "a"}}), aws__TagKeys=["a", "b"])
    with pytest.raises(PolicyModelError, match="DateGreaterThan"):
        allowed(conditioned({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}), aws__CurrentTime="2021-01-01T00:00:00Z")
    with pytest.raises(PolicyModelError, match="policy variables"):
        allowed(conditioned({"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}}))
    with pytest.raises(PolicyModelError, match="Effect"):
        allowed(policy(statement(Effect="Maybe")))


# --- endpoint policy restrictions -----------------------------------------------------------


def test_endpoint_policy_problems() -> None:
    fine = policy(
        statement(Action="s3:GetObject", Resource="arn:aws:s3:::prod-eu-west-2-starport-layer-bucket/*"),
        statement(Action="s3:*", Resource="*", Condition={"StringEquals": {"aws:ResourceAccount": ACCOUNT}}),
    )
    assert endpoint_policy_problems(fine) == []
    no_principal = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert "must contain a Principal" in endpoint_policy_problems(no_principal)[0]
    wildcard_account = policy(statement(Condition={"StringLike": {"aws:PrincipalAccount": "1111*"}}))
    assert any("no wildcards" in p for p in endpoint_policy_problems(wildcard_account))
    short_run = policy(statement(Condition={"StringLike": {"aws:PrincipalArn": "ab*cd"}}))
    assert any("six consecutive" in p for p in endpoint_policy_problems(short_run))
    mixed_account = policy(statement(Resource="arn:aws:sqs:eu-west-2:1111*:queue"))
    assert any("not both" in p for p in endpoint_policy_problems(mixed_account))


# --- policies out of a template -------------------------------------------------------------

CDK_TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "KeyPolicy": policy(
                    statement(Principal={"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}, Action="kms:*", Resource="*")
                )
            },
        },
        "BareKey": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
        "TopicPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {"Topics": [{"Ref": "Topic"}], "PolicyDocument": policy(statement(Resource={"Ref": "Topic"}))},
        },
        "Queue": {"Type": "AWS::SQS::Queue"},
        "QueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [{"Ref": "Queue"}],
                "PolicyDocument": policy(statement(Action="sqs:SendMessage", Resource={"Fn::GetAtt": ["Queue", "Arn"]})),
            },
        },
        "Repo": {
            "Type": "AWS::ECR::Repository",
            "Properties": {
                "RepositoryName": "api",
                "RepositoryPolicyText": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "ecr:BatchGetImage"}]},
            },
        },
        "S3Endpoint": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {
                "ServiceName": {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]},
                "VpcEndpointType": "Gateway",
            },
        },
        "DkrEndpoint": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {
                "ServiceName": "com.amazonaws.eu-west-2.ecr.dkr",
                "VpcEndpointType": "Interface",
                "PolicyDocument": policy(statement(Action="ecr:*", Resource="*")),
            },
        },
    }
}


def test_policies_out_of_a_template() -> None:
    resolver = Resolver(CDK_TEMPLATE, Environment(ACCOUNT, "eu-west-2"))
    topic_arn = resolver.resolve({"Ref": "Topic"})
    assert topic_policy(resolver, "Topic")["Statement"][0]["Resource"] == topic_arn
    assert may(topic_policy(resolver, "Topic"), ME, "sns:Publish", topic_arn).allowed
    assert queue_policy(resolver, "Queue")["Statement"][0]["Resource"] == f"arn:aws:sqs:eu-west-2:{ACCOUNT}:Queue"
    assert key_policy(resolver, "Key")["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert key_policy(resolver, "BareKey")["Statement"][0]["Action"] == "kms:*"  # KMS's default key policy
    repo = repository_policy(resolver, "Repo")
    assert repo is not None and may(repo, Principal.root(OTHER), "ecr:BatchGetImage", "arn:aws:ecr:eu-west-2:1:repository/api").allowed
    key_arn = topic_key_arn(resolver, "Topic")
    assert key_arn is not None and resolver.find_by_attribute("Arn", key_arn, "AWS::KMS::Key") == "Key"
    assert endpoint_serving(resolver, "s3") == "S3Endpoint" and endpoint_kind(resolver, "S3Endpoint") == "gateway"
    assert endpoint_serving(resolver, "ecr.dkr") == "DkrEndpoint" and endpoint_kind(resolver, "DkrEndpoint") == "interface"
    assert endpoint_policy(resolver, "S3Endpoint")["Statement"][0]["Action"] == "*"  # the default: full access
    assert endpoint_policy(resolver, "DkrEndpoint")["Statement"][0]["Action"] == "ecr:*"
    with pytest.raises(LookupError):
        topic_policy(resolver, "Queue")
    with pytest.raises(LookupError):
        endpoint_serving(resolver, "logs")


# --- identity-based policies ----------------------------------------------------------------

ROLE_TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Jobs": {"Type": "AWS::SQS::Queue"},
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Policies": [{"PolicyName": "inline", "PolicyDocument": policy(
                    {"Effect": "Allow", "Action": "sqs:GetQueueUrl", "Resource": "*"}
                )}],
            },
        },
        "OtherRole": {"Type": "AWS::IAM::Role"},
        "RoleDefaultPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "Roles": [{"Ref": "Role"}],
                "PolicyDocument": policy(
                    {"Sid": "Send", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": {"Fn::GetAtt": ["Jobs", "Arn"]}}
                ),
            },
        },
        "OtherPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {"Roles": [{"Ref": "OtherRole"}], "PolicyDocument": policy({"Effect": "Allow", "Action": "*", "Resource": "*"})},
        },
    }
}


def test_identity_policies_apply_to_their_holder_without_a_principal() -> None:
    resolver = Resolver(ROLE_TEMPLATE, Environment(ACCOUNT, "eu-west-2"))
    document = role_policy(resolver, "Role")
    # The inline policy and the attached one; not the policy of another role.
    assert len(document["Statement"]) == 2
    me = Principal.iam(resolver.get_att("Role", "Arn"))
    queue = resolver.get_att("Jobs", "Arn")
    assert queue == f"arn:aws:sqs:eu-west-2:{ACCOUNT}:Jobs"
    assert evaluate_identity(document, Request(me, "sqs:SendMessage", queue)).statements == ("Send",)
    assert evaluate_identity(document, Request(me, "SQS:sendmessage", queue)).allowed  # actions are case-insensitive
    assert not evaluate_identity(document, Request(me, "sqs:SendMessage", queue + "-dlq")).allowed
    assert not evaluate_identity(document, Request(me, "sqs:ReceiveMessage", queue)).allowed
    deny = policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
                  {"Sid": "NoDlq", "Effect": "Deny", "Action": "sqs:*", "Resource": "*-dlq"})
    assert evaluate_identity(deny, Request(me, "sqs:SendMessage", queue + "-dlq")).reason == "explicit deny"
    # AWS refuses a Principal in an identity-based policy; so does the model.
    with pytest.raises(PolicyModelError):
        evaluate_identity(policy(statement()), Request(me, "sns:Publish", TOPIC))
    with pytest.raises(PolicyModelError):
        role_policy(resolver, "Jobs")
