"""The requests AWS makes in the scenarios this project promises things about, with the
request-context keys AWS documents for each. A key AWS does not document is left out: the
policy model then treats it as absent (the conservative reading), so a policy that depends on
an undocumented key fails its test instead of passing on a guess.

(a) A CloudWatch alarm publishes to an SNS topic.
    Principal ``cloudwatch.amazonaws.com``, action ``sns:Publish``, resource the topic.
    ``aws:SourceArn`` is the alarm's ARN: AWS's own troubleshooting page shows the denial
    "Resource: arn:aws:cloudwatch:<region>:<account>:alarm:<name> is not authorized to perform:
    SNS:Publish" and scopes the fix with ``ArnLike`` on ``aws:SourceArn``
    (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger).
    ``aws:SourceAccount`` is "only available when the call to your resource is made directly by
    an AWS service principal" - this call is
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    ``aws:SecureTransport`` is always in the context (same page); AWS's services call each other
    over TLS, so it is "true" (an assumption: no page states the value for this call).

(b) SNS encrypts that message with the topic's customer managed KMS key.
    The key policy must allow the *publishing service's* principal (here
    ``cloudwatch.amazonaws.com``) ``kms:GenerateDataKey*`` and ``kms:Decrypt``; AWS's example
    statement has no condition
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services;
    the AWS managed key alias/aws/sns cannot be used by alarms:
    https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns).
    The encryption context ``aws:sns:topicArn`` = the topic ARN is documented by AWS only by
    example, in another service's guide, for a service principal publishing to an encrypted
    topic (``kms:EncryptionContext:aws:sns:topicArn``, together with ``aws:SourceArn`` of that
    service's resource:
    https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/queue-notification-sns-sse.html).
    The model includes the encryption context (SNS sets it, whoever publishes). For CloudWatch,
    AWS documents neither ``aws:SourceArn`` nor ``aws:SourceAccount`` on the KMS call (they
    describe the publisher, and the page above documents them for GameLift only), nor
    ``kms:ViaService``: they are absent here unless the caller opts in
    (``assume_source_keys=True``), which only serves to show what a policy would depend on.

(c) An ECS Fargate task pulls its image from ECR.
    The task execution role calls ECR through the ``ecr.api`` (GetAuthorizationToken) and
    ``ecr.dkr`` (BatchCheckLayerAvailability, GetDownloadUrlForLayer, BatchGetImage) interface
    endpoints; the layers are then read from S3 through the S3 gateway endpoint, from ECR's
    bucket ``arn:aws:s3:::prod-<region>-starport-layer-bucket/*``; AWS's example endpoint policy
    for it is ``"Principal": "*"``, ``s3:GetObject`` on that bucket, no condition
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html, "Minimum Amazon S3
    bucket permissions for Amazon ECR"; execution role:
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).
    On the ECR calls, ``aws:PrincipalAccount`` (every signed request) is the task's account and
    ``aws:ResourceAccount`` the repository's, which is another account when the registry lives
    in a tooling account. Who signs the S3 layer request is not documented: its principal is
    :meth:`Principal.undocumented` with no account keys, so an S3 endpoint policy that scopes the
    layer bucket by principal or account does not pass.

(d) AWS Budgets publishes a budget notification to an SNS topic.
    Principal ``budgets.amazonaws.com``, action ``sns:Publish``, resource the topic, which must
    be in the budget's own account ("Cross-account Amazon SNS isn't supported"). AWS's topic
    policy statement for it conditions on ``aws:SourceAccount`` = the account and
    ``ArnLike aws:SourceArn`` = ``arn:aws:budgets::<account-id>:*``
    (https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html), so
    both keys are in the request. The source is the budget: Budgets is global (no region in its
    ARNs) and "the value of aws:SourceArn must be arn:aws:budgets::123456789012:budget/*"
    (https://docs.aws.amazon.com/cost-management/latest/userguide/cross-service-confused-deputy-prevention.html),
    i.e. ``arn:aws:budgets::<account>:budget/<budget name>``.

(e) SNS encrypts that notification with the topic's customer managed KMS key.
    The same page, "To enable compatibility between AWS Budgets and encrypted Amazon SNS
    topics": the key policy must allow ``budgets.amazonaws.com`` ``kms:GenerateDataKey*`` and
    ``kms:Decrypt`` on ``"Resource": "*"``, with no condition in the statement as AWS's
    documentation repository last published it (awsdocs/aws-cost-management-user-guide,
    doc_source/budgets-sns-policy.md, 2022); the page's troubleshooting adds that an encrypted
    topic "won't work without additional permissions". As in (b), the encryption context
    ``aws:sns:topicArn`` is in the request (SNS sets it, whoever publishes), and AWS documents
    no ``aws:SourceArn``/``aws:SourceAccount`` on the KMS call: they are absent unless the
    caller opts in (``assume_source_keys=True``).

(f) A task sends a message to another service's KMS-encrypted queue.
    The task role calls ``sqs:SendMessage`` on the queue; "the producer's next call to
    SendMessage or SendMessageBatch also triggers calls to kms:Decrypt and kms:GenerateDataKey",
    so "the producer must have the kms:Decrypt and kms:GenerateDataKey permissions for the KMS
    key" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html,
    "Configure AWS KMS permissions for producers"). All three are the role's own signed requests:
    ``aws:PrincipalAccount``, ``aws:PrincipalArn``, TLS. SQS's encryption context and
    ``kms:ViaService`` are not modelled (nothing here depends on them).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.aws_models.iam_policy import ContextValue, Principal, Request

__all__ = [
    "EndpointRequest",
    "alarm_publishes_to_topic",
    "budget_arn",
    "budget_publishes_to_topic",
    "ecr_layer_bucket_arn",
    "image_pull_requests",
    "producer_sends_to_queue",
    "sns_encrypts_for_alarm",
    "sns_encrypts_for_budget",
    "task_log_requests",
]

CLOUDWATCH = "cloudwatch.amazonaws.com"
BUDGETS = "budgets.amazonaws.com"


def _arn_account(arn: str) -> str:
    return arn.split(":")[4]


def alarm_publishes_to_topic(alarm_arn: str, topic_arn: str) -> Request:
    """(a): the request SNS authorizes against the topic policy when an alarm fires."""
    context: dict[str, ContextValue] = {
        "aws:SourceArn": alarm_arn,
        "aws:SourceAccount": _arn_account(alarm_arn),
        "aws:SecureTransport": "true",
    }
    return Request(Principal.service(CLOUDWATCH), "sns:Publish", topic_arn, context)


def sns_encrypts_for_alarm(alarm_arn: str, topic_arn: str, key_arn: str, *, assume_source_keys: bool = False) -> list[Request]:
    """(b): the KMS requests made for that publish, GenerateDataKey and Decrypt, against the key."""
    return _sns_encrypts_for(CLOUDWATCH, alarm_arn, topic_arn, key_arn, assume_source_keys=assume_source_keys)


def budget_arn(account: str, name: str, partition: str = "aws") -> str:
    """(d): a budget's ARN (global: no region)."""
    return f"arn:{partition}:budgets::{account}:budget/{name}"


def budget_publishes_to_topic(budget: str, topic_arn: str) -> Request:
    """(d): the request SNS authorizes against the topic policy when a budget alert goes out."""
    context: dict[str, ContextValue] = {
        "aws:SourceArn": budget,
        "aws:SourceAccount": _arn_account(budget),
        "aws:SecureTransport": "true",
    }
    return Request(Principal.service(BUDGETS), "sns:Publish", topic_arn, context)


def sns_encrypts_for_budget(budget: str, topic_arn: str, key_arn: str, *, assume_source_keys: bool = False) -> list[Request]:
    """(e): the KMS requests made for that publish, GenerateDataKey and Decrypt, against the key."""
    return _sns_encrypts_for(BUDGETS, budget, topic_arn, key_arn, assume_source_keys=assume_source_keys)


def _sns_encrypts_for(service: str, source_arn: str, topic_arn: str, key_arn: str, *, assume_source_keys: bool) -> list[Request]:
    context: dict[str, ContextValue] = {"kms:EncryptionContext:aws:sns:topicArn": topic_arn, "aws:SecureTransport": "true"}
    if assume_source_keys:
        context |= {"aws:SourceArn": source_arn, "aws:SourceAccount": _arn_account(source_arn)}
    principal = Principal.service(service)
    return [Request(principal, action, key_arn, context) for action in ("kms:GenerateDataKey", "kms:Decrypt")]


@dataclass(frozen=True)
class EndpointRequest:
    """A request and the VPC endpoint it goes through ("ecr.api", "ecr.dkr", "s3", "logs")."""

    endpoint: str
    request: Request


def ecr_layer_bucket_arn(region: str, partition: str = "aws") -> str:
    """The bucket ECR serves image layers from, per region (documented name)."""
    return f"arn:{partition}:s3:::prod-{region}-starport-layer-bucket"


def image_pull_requests(execution_role_arn: str, repository_arn: str, *, layer_key: str = "layer/sha256-0") -> list[EndpointRequest]:
    """(c): the requests of one image pull, each with the endpoint it passes."""
    role = Principal.iam(execution_role_arn)
    signed: dict[str, ContextValue] = {"aws:PrincipalAccount": _arn_account(execution_role_arn), "aws:PrincipalArn": execution_role_arn}
    signed["aws:SecureTransport"] = "true"
    on_repository = signed | {"aws:ResourceAccount": _arn_account(repository_arn)}
    partition, region = repository_arn.split(":")[1], repository_arn.split(":")[3]
    layer = Request(
        Principal.undocumented("the signer of ECR's layer download URL"),
        "s3:GetObject",
        f"{ecr_layer_bucket_arn(region, partition)}/{layer_key}",
        {"aws:SecureTransport": "true"},
    )
    return [
        EndpointRequest("ecr.api", Request(role, "ecr:GetAuthorizationToken", "*", signed)),
        *(
            EndpointRequest("ecr.dkr", Request(role, action, repository_arn, on_repository))
            for action in ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
        ),
        EndpointRequest("s3", layer),
    ]


def task_log_requests(execution_role_arn: str, log_group_arn: str, *, stream: str = "app/web/0") -> list[EndpointRequest]:
    """The awslogs driver's calls with the execution role, through the ``logs`` endpoint."""
    role = Principal.iam(execution_role_arn)
    context: dict[str, ContextValue] = {
        "aws:PrincipalAccount": _arn_account(execution_role_arn),
        "aws:PrincipalArn": execution_role_arn,
        "aws:ResourceAccount": _arn_account(log_group_arn),
        "aws:SecureTransport": "true",
    }
    stream_arn = f"{log_group_arn.removesuffix(':*')}:log-stream:{stream}"
    return [EndpointRequest("logs", Request(role, action, stream_arn, context)) for action in ("logs:CreateLogStream", "logs:PutLogEvents")]


def producer_sends_to_queue(role_arn: str, queue_arn: str, key_arn: str) -> list[Request]:
    """(f): SendMessage on the queue, then GenerateDataKey and Decrypt on its key, as the role."""
    role = Principal.iam(role_arn)
    context: dict[str, ContextValue] = {
        "aws:PrincipalAccount": _arn_account(role_arn),
        "aws:PrincipalArn": role_arn,
        "aws:SecureTransport": "true",
    }
    return [
        Request(role, "sqs:SendMessage", queue_arn, context),
        *(Request(role, action, key_arn, context) for action in ("kms:GenerateDataKey", "kms:Decrypt")),
    ]
