"""The documented request contexts of (a) an alarm publishing to a topic, (b) SNS encrypting
that message, (c) a Fargate task pulling its image, (d) a budget alert publishing to a topic,
(e) SNS encrypting it, (f) a task sending to an encrypted queue, run through the policy model
against the policy shapes this project writes or might write."""

from __future__ import annotations

from typing import Any

from tests.aws_models.aws_requests import (
    alarm_publishes_to_topic,
    budget_arn,
    budget_publishes_to_topic,
    ecr_layer_bucket_arn,
    image_pull_requests,
    producer_sends_to_queue,
    sns_encrypts_for_alarm,
    sns_encrypts_for_budget,
    task_log_requests,
)
from tests.aws_models.iam_policy import EndpointKind, evaluate, evaluate_identity

PROD = "333333333333"
TOOLING = "111111111111"
REGION = "eu-west-2"
TOPIC = f"arn:aws:sns:{REGION}:{PROD}:AlarmTopic"
KEY = f"arn:aws:kms:{REGION}:{PROD}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALARM = f"arn:aws:cloudwatch:{REGION}:{PROD}:alarm:prod-portfolio-import-dlq"
FOREIGN_ALARM = f"arn:aws:cloudwatch:{REGION}:999999999999:alarm:anything"
EXECUTION_ROLE = f"arn:aws:iam::{PROD}:role/ProdWorkers-TaskExecutionRole"
REPOSITORY = f"arn:aws:ecr:{REGION}:{TOOLING}:repository/portfolio-api"
LOG_GROUP = f"arn:aws:logs:{REGION}:{PROD}:log-group:/stable-fargate/prod/portfolio-api:*"

TLS_ONLY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    "Sid": "AllowPublishThroughSSLOnly",
}
ALARMS_MAY_PUBLISH = {
    "Sid": "AllowCloudWatchAlarms",
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": TOPIC,
    "Condition": {"StringEquals": {"aws:SourceAccount": PROD}, "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{PROD}:alarm:*"}},
}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# --- (a) alarm -> topic ---------------------------------------------------------------------


def test_a_topic_policy_with_only_the_tls_deny_refuses_every_alarm() -> None:
    # enforce_ssl alone replaces SNS's default policy: nothing allows CloudWatch (issue 8, item 1).
    decision = evaluate(doc(TLS_ONLY), alarm_publishes_to_topic(ALARM, TOPIC))
    assert (decision.allowed, decision.reason) == (False, "implicit deny")


def test_a_scoped_allow_admits_this_accounts_alarms_only() -> None:
    policy = doc(TLS_ONLY, ALARMS_MAY_PUBLISH)
    assert evaluate(policy, alarm_publishes_to_topic(ALARM, TOPIC)).statements == ("AllowCloudWatchAlarms",)
    assert not evaluate(policy, alarm_publishes_to_topic(FOREIGN_ALARM, TOPIC)).allowed


def test_a_the_request_carries_the_documented_keys() -> None:
    request = alarm_publishes_to_topic(ALARM, TOPIC)
    assert request.principal.name == "cloudwatch.amazonaws.com"
    assert dict(request.context) == {"aws:SourceArn": ALARM, "aws:SourceAccount": PROD, "aws:SecureTransport": "true"}


# --- (b) SNS -> KMS for the alarm -------------------------------------------------------------

ACCOUNT_ADMIN = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"}, "Action": "kms:*", "Resource": "*"}


def kms_for_cloudwatch(condition: dict[str, Any] | None) -> dict[str, Any]:
    statement = {
        "Sid": "AllowCloudWatchAlarms",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    return doc(ACCOUNT_ADMIN, statement | ({"Condition": condition} if condition else {}))


def all_allowed(policy: dict[str, Any], *, assume_source_keys: bool = False) -> bool:
    requests = sns_encrypts_for_alarm(ALARM, TOPIC, KEY, assume_source_keys=assume_source_keys)
    return all(evaluate(policy, request).allowed for request in requests)


def test_b_aws_documented_statement_without_conditions_works() -> None:
    assert all_allowed(kms_for_cloudwatch(None))


def test_b_a_key_policy_that_needs_aws_source_account_depends_on_an_undocumented_key() -> None:
    # AWS documents no aws:SourceAccount/aws:SourceArn on the KMS call SNS makes for an alarm:
    # the model leaves them out, so this policy fails here, and would pass only on the guess.
    needs_source_account = kms_for_cloudwatch({"StringEquals": {"aws:SourceAccount": PROD}})
    assert not all_allowed(needs_source_account)
    assert all_allowed(needs_source_account, assume_source_keys=True)


def test_b_scoping_by_the_topic_encryption_context_works() -> None:
    scoped = kms_for_cloudwatch({"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": TOPIC}})
    assert all_allowed(scoped)
    other_topic = kms_for_cloudwatch({"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": TOPIC + "-other"}})
    assert not all_allowed(other_topic)


def test_b_both_kms_actions_are_requested_by_the_service_principal() -> None:
    requests = sns_encrypts_for_alarm(ALARM, TOPIC, KEY)
    assert [r.action for r in requests] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert {r.principal.name for r in requests} == {"cloudwatch.amazonaws.com"}
    assert all("aws:SourceAccount" not in r.context for r in requests)


# --- (c) a Fargate task pulls its image ---------------------------------------------------


def pull_allowed(policies: dict[str, tuple[EndpointKind, dict[str, Any]]]) -> dict[str, bool]:
    """endpoint -> whether every request of the pull through it is allowed."""
    results: dict[str, bool] = {}
    for step in image_pull_requests(EXECUTION_ROLE, REPOSITORY):
        kind, policy = policies[step.endpoint]
        allowed = evaluate(policy, step.request, endpoint=kind).allowed
        results[step.endpoint] = results.get(step.endpoint, True) and allowed
    return results


FULL_ACCESS = doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
LAYER_BUCKET = {
    "Sid": "EcrLayers",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"{ecr_layer_bucket_arn(REGION)}/*",
}
OWN_BUCKETS = {
    "Sid": "OwnBuckets",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:ResourceAccount": PROD}},
}
OWN_PRINCIPALS = doc(
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": PROD}}}
)


def test_c_the_default_endpoint_policies_let_the_pull_through() -> None:
    assert pull_allowed({"ecr.api": ("interface", FULL_ACCESS), "ecr.dkr": ("interface", FULL_ACCESS), "s3": ("gateway", FULL_ACCESS)}) == {
        "ecr.api": True,
        "ecr.dkr": True,
        "s3": True,
    }


def test_c_s3_gateway_policy_must_name_ecrs_layer_bucket() -> None:
    interfaces: dict[str, tuple[EndpointKind, dict[str, Any]]] = {
        "ecr.api": ("interface", OWN_PRINCIPALS),
        "ecr.dkr": ("interface", OWN_PRINCIPALS),
    }
    assert pull_allowed(interfaces | {"s3": ("gateway", doc(OWN_BUCKETS, LAYER_BUCKET))})["s3"]
    # Own buckets only: the layer bucket is AWS's, not this account's.
    assert not pull_allowed(interfaces | {"s3": ("gateway", doc(OWN_BUCKETS))})["s3"]
    # Scoping the layer bucket by the caller's account: the caller of the layer download is undocumented.
    assert not pull_allowed(interfaces | {"s3": ("gateway", OWN_PRINCIPALS)})["s3"]


def test_c_interface_policies_may_scope_principals_but_not_resources_to_this_account() -> None:
    s3: dict[str, tuple[EndpointKind, dict[str, Any]]] = {"s3": ("gateway", doc(LAYER_BUCKET))}
    assert pull_allowed(s3 | {"ecr.api": ("interface", OWN_PRINCIPALS), "ecr.dkr": ("interface", OWN_PRINCIPALS)}) == {
        "ecr.api": True,
        "ecr.dkr": True,
        "s3": True,
    }
    # The registry is in the tooling account: "resources of this account only" refuses the pull.
    own_resources = doc(
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceAccount": PROD}}}
    )
    assert not pull_allowed(s3 | {"ecr.api": ("interface", FULL_ACCESS), "ecr.dkr": ("interface", own_resources)})["ecr.dkr"]


def test_c_account_principal_on_the_gateway_means_root_only() -> None:
    # On a gateway endpoint "AWS": "<account>" grants the root user only (PrivateLink guide).
    account_principal = doc({"Effect": "Allow", "Principal": {"AWS": PROD}, "Action": "s3:GetObject", "Resource": "*"})
    assert not pull_allowed(
        {"ecr.api": ("interface", FULL_ACCESS), "ecr.dkr": ("interface", FULL_ACCESS), "s3": ("gateway", account_principal)}
    )["s3"]


def test_c_requests_and_logs() -> None:
    steps = image_pull_requests(EXECUTION_ROLE, REPOSITORY)
    assert [(s.endpoint, s.request.action) for s in steps] == [
        ("ecr.api", "ecr:GetAuthorizationToken"),
        ("ecr.dkr", "ecr:BatchCheckLayerAvailability"),
        ("ecr.dkr", "ecr:GetDownloadUrlForLayer"),
        ("ecr.dkr", "ecr:BatchGetImage"),
        ("s3", "s3:GetObject"),
    ]
    assert steps[1].request.context["aws:ResourceAccount"] == TOOLING
    assert steps[1].request.context["aws:PrincipalAccount"] == PROD
    assert steps[-1].request.resource.startswith("arn:aws:s3:::prod-eu-west-2-starport-layer-bucket/")
    logs = task_log_requests(EXECUTION_ROLE, LOG_GROUP)
    assert {s.request.action for s in logs} == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert all(evaluate(OWN_PRINCIPALS, s.request, endpoint="interface").allowed for s in logs)


# --- (d) budget -> topic, (e) SNS -> KMS for the budget ----------------------------------------

BUDGET = budget_arn(PROD, "prod-monthly")
FOREIGN_BUDGET = budget_arn("999999999999", "prod-monthly")
# AWS's statement for the topic policy (Cost Management guide, budgets-sns-policy), with the
# placeholders filled in.
BUDGETS_MAY_PUBLISH = {
    "Sid": "AWSBudgetsSNSPublishingPermissions",
    "Effect": "Allow",
    "Principal": {"Service": "budgets.amazonaws.com"},
    "Action": "SNS:Publish",
    "Resource": TOPIC,
    "Condition": {"StringEquals": {"aws:SourceAccount": PROD}, "ArnLike": {"aws:SourceArn": f"arn:aws:budgets::{PROD}:*"}},
}


def test_d_the_budget_is_global_and_its_arn_names_the_account() -> None:
    assert BUDGET == "arn:aws:budgets::333333333333:budget/prod-monthly"
    request = budget_publishes_to_topic(BUDGET, TOPIC)
    assert request.principal.name == "budgets.amazonaws.com"
    assert dict(request.context) == {"aws:SourceArn": BUDGET, "aws:SourceAccount": PROD, "aws:SecureTransport": "true"}


def test_d_awss_statement_admits_this_accounts_budgets_only() -> None:
    policy = doc(TLS_ONLY, BUDGETS_MAY_PUBLISH)
    assert evaluate(policy, budget_publishes_to_topic(BUDGET, TOPIC)).statements == ("AWSBudgetsSNSPublishingPermissions",)
    assert not evaluate(policy, budget_publishes_to_topic(FOREIGN_BUDGET, TOPIC)).allowed
    # The alarms' statement does not let Budgets in, nor the other way round.
    assert not evaluate(doc(TLS_ONLY, ALARMS_MAY_PUBLISH), budget_publishes_to_topic(BUDGET, TOPIC)).allowed
    assert not evaluate(policy, alarm_publishes_to_topic(ALARM, TOPIC)).allowed


def kms_for_budgets(condition: dict[str, Any] | None) -> dict[str, Any]:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "budgets.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
    }
    return doc(ACCOUNT_ADMIN, statement | ({"Condition": condition} if condition else {}))


def budget_kms_allowed(policy: dict[str, Any], *, assume_source_keys: bool = False) -> bool:
    requests = sns_encrypts_for_budget(BUDGET, TOPIC, KEY, assume_source_keys=assume_source_keys)
    return all(evaluate(policy, request).allowed for request in requests)


def test_e_awss_key_statement_works_and_the_alarms_one_does_not_serve_budgets() -> None:
    assert budget_kms_allowed(kms_for_budgets(None))
    assert not budget_kms_allowed(kms_for_cloudwatch(None))  # another service principal


def test_e_the_topic_encryption_context_scopes_the_key_and_source_keys_would_be_a_guess() -> None:
    this_accounts_topics = {"ArnLike": {"kms:EncryptionContext:aws:sns:topicArn": f"arn:aws:sns:{REGION}:{PROD}:*"}}
    assert budget_kms_allowed(kms_for_budgets(this_accounts_topics))
    elsewhere = {"ArnLike": {"kms:EncryptionContext:aws:sns:topicArn": f"arn:aws:sns:{REGION}:999999999999:*"}}
    assert not budget_kms_allowed(kms_for_budgets(elsewhere))
    by_source = kms_for_budgets({"StringEquals": {"aws:SourceAccount": PROD}})
    assert not budget_kms_allowed(by_source)
    assert budget_kms_allowed(by_source, assume_source_keys=True)


# --- (f) a task sends to another service's encrypted queue -------------------------------------

QUEUE = f"arn:aws:sqs:{REGION}:{PROD}:portfolio-import"
PRODUCER = f"arn:aws:iam::{PROD}:role/ProdApi-TaskRole"


def test_f_send_needs_the_queue_and_both_data_key_actions() -> None:
    requests = producer_sends_to_queue(PRODUCER, QUEUE, KEY)
    assert [(r.action, r.resource) for r in requests] == [
        ("sqs:SendMessage", QUEUE), ("kms:GenerateDataKey", KEY), ("kms:Decrypt", KEY),
    ]
    assert {r.principal.name for r in requests} == {PRODUCER}
    documented = doc(
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": KEY},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE},
    )
    assert all(evaluate_identity(documented, r).allowed for r in requests)
    send_only = doc({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE})
    assert [evaluate_identity(send_only, r).allowed for r in requests] == [True, False, False]
