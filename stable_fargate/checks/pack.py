"""StableFargateChecks: a cdk-nag 3 pack that finds, in any CDK app, the instabilities this
library prevents.

    Validations.of(app).add_plugins(StableFargateChecks(app))

The pack holds every rule's id, level, info (what is wrong) and explanation (why it makes
releases unstable, and how to fix it); the rules themselves are one module each under
:mod:`stable_fargate.checks.rules`. Finding ids are ``SF-<AREA><N>`` (``SF-ROLL1``);
acknowledge one on the construct it concerns:

    Validations.of(construct).acknowledge(Acknowledgment(id="SF-ROLL2", reason="..."))

How a rule sees the app: cdk-nag calls the pack for each CfnResource after the CDK has
written the cloud assembly, so the pack reads the stacks' synthesized templates (see
:mod:`stable_fargate.checks.template` for why not the L1 attributes) and finds the node in
them by ``Stack.of(node).resolve(node.logical_id)``. A rule never raises: an unexpected error
makes that rule not applicable to that node and is recorded in :attr:`StableFargateChecks.problems`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import cast

import jsii
from aws_cdk import CfnResource, Stack, Stage, Token
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from stable_fargate.checks.rules import (
    alarm1_topic_policy,
    alarm2_topic_key,
    alarm3_dead_letter_alarm,
    cfg1_secret_in_environment,
    cfg2_postgres_ssl,
    health1_start_period,
    health2_grace_below_start_period,
    health3_slow_to_healthy,
    health4_deregistration_delay,
    health5_grace_margin,
    img1_moving_tag,
    img2_mutable_tags,
    img3_scan_on_push,
    img4_lifecycle_policy,
    img5_lifecycle_overlap,
    queue1_dead_letter_queue,
    queue2_visibility_timeout,
    queue3_cpu_and_queue,
    queue4_queue_signal_period,
    roll1_circuit_breaker,
    roll2_minimum_healthy,
    roll3_deployment_alarms,
    scale1_cooldowns,
    scale2_max_capacity,
    scale3_fargate_size,
    scale4_spot_fallback,
)
from stable_fargate.checks.template import AppTemplates, Resource, StackTemplate, read_template

PACK_NAME = "SF"
"""The prefix of every finding id: ``SF-ROLL1``."""

PLUGIN_NAME = "StableFargateChecks"
"""How the pack is named in validation-report.json."""


class Instability(Enum):
    """The causes of unstable Fargate releases that the library exists to prevent."""

    DRIFT = "staging and prod drift apart; a service fails only in prod"
    IMAGES = "image pulls hang or pull the wrong thing during a release"
    HEALTH = "health checks kill containers that are still warming up"
    POSTGRES = "Postgres connections exhaust or fail on SSL during start-up"
    QUEUES = "queues back up faster than workers scale"
    COSTS = "costs jump because scaling reacts too aggressively"


@dataclass(frozen=True)
class RuleSpec:
    """One rule: its id and texts here, its logic in ``module`` (``RESOURCE_TYPES``, ``check``)."""

    id: str
    level: NagMessageLevel
    module: ModuleType
    info: str
    rationale: str
    fix: str
    instability: Instability

    @property
    def suffix(self) -> str:
        """The id without the pack's prefix (cdk-nag's ``ruleSuffixOverride``)."""
        return self.id.removeprefix(f"{PACK_NAME}-")

    @property
    def explanation(self) -> str:
        return f"{self.rationale} Fix: {self.fix}"

    @property
    def resource_types(self) -> tuple[str, ...]:
        types: tuple[str, ...] = self.module.RESOURCE_TYPES
        return types

    def check(self, resource: Resource) -> NagRuleCompliance:
        verdict: NagRuleCompliance = self.module.check(resource)
        return verdict


ERROR, WARN = NagMessageLevel.ERROR, NagMessageLevel.WARN

RULES: tuple[RuleSpec, ...] = (
    # --- Rollouts ------------------------------------------------------------------------
    RuleSpec(
        "SF-ROLL1", ERROR, roll1_circuit_breaker,
        info="The ECS service deploys without the deployment circuit breaker rolling back.",
        rationale="A release whose tasks never become healthy is retried forever (tasks start, fail, start again) "
        "while the old version runs short of capacity; nothing returns the service to the last good deployment.",
        fix="Set DeploymentConfiguration.DeploymentCircuitBreaker to Enable: true, Rollback: true "
        "(circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True)).",
        instability=Instability.HEALTH,
    ),
    RuleSpec(
        "SF-ROLL2", WARN, roll2_minimum_healthy,
        info="The service runs two or more tasks but lets a rollout stop some before their replacements are healthy.",
        rationale="With MinimumHealthyPercent below 100 a deployment first stops old tasks, so every release runs "
        "with less capacity than the load needs, and a release that fails its health checks takes it lower still.",
        fix="Set min_healthy_percent=100 and max_healthy_percent=200 (start the new tasks before stopping the old).",
        instability=Instability.HEALTH,
    ),
    RuleSpec(
        "SF-ROLL3", WARN, roll3_deployment_alarms,
        info="The load-balanced service has no deployment alarms that roll a bad release back.",
        rationale="The circuit breaker sees only tasks that fail to start or fail health checks; a release that "
        "starts and answers /healthz but fails requests (5xx, timeouts) stays deployed until someone notices.",
        fix="Give deployment_alarms=ecs.DeploymentAlarmConfig(alarm_names=[...], behavior=ROLLBACK_ON_ALARM) with "
        "alarms on the target group's 5xx rate and unhealthy hosts (the library's StableWebService does).",
        instability=Instability.HEALTH,
    ),
    # --- Health checks -------------------------------------------------------------------
    RuleSpec(
        "SF-HEALTH1", WARN, health1_start_period,
        info="A load-balanced container has no health check start period: its warm-up is declared nowhere.",
        rationale="Without a declared warm-up nothing derives the grace period or the checks from it, and a "
        "container health check added later counts failures from the first second.",
        fix="Give the container a health check with start_period = the app's warm-up (StableWebService derives "
        "it from warm_up).",
        instability=Instability.HEALTH,
    ),
    RuleSpec(
        "SF-HEALTH2", ERROR, health2_grace_below_start_period,
        info="The service's health-check grace period ends before its container's start period does.",
        rationale="After the grace period ECS acts on failed load balancer checks, so a container that is still "
        "inside its declared warm-up is stopped and replaced, and a rollout can loop.",
        fix="Set health_check_grace_period at least the start period; better, the floor SF-HEALTH5 names.",
        instability=Instability.HEALTH,
    ),
    RuleSpec(
        "SF-HEALTH3", WARN, health3_slow_to_healthy,
        info="The target group needs more than 60 s (HealthyThresholdCount x interval) to count a new task healthy.",
        rationale="Every rollout batch and every scale-out waits this long after the app can answer; ELB's "
        "defaults (5 x 30 s = 150 s) make a release minutes slower and a spike last longer.",
        fix="Use an interval of 10 s and a healthy threshold of 2 (20 s), as StableWebService does.",
        instability=Instability.HEALTH,
    ),
    RuleSpec(
        "SF-HEALTH4", WARN, health4_deregistration_delay,
        info="The target group drains a stopping task for more than 120 s (ELB's default is 300 s).",
        rationale="Every rollout batch and every scale-in waits for the delay; beyond Fargate's 120 s stop "
        "timeout a longer drain protects no request anyway.",
        fix="Set deregistration_delay to the longest request the service serves (StableWebService: 30 s).",
        instability=Instability.HEALTH,
    ),
    RuleSpec(
        "SF-HEALTH5", ERROR, health5_grace_margin,
        info="The grace period is shorter than warm-up + (healthy threshold + 1) x interval + timeout.",
        rationale="A task that answers right after its warm-up is counted healthy only after the threshold's "
        "checks, plus the check in flight and its timeout; a shorter grace period lets ECS stop a good release "
        "seconds before it passes, and the circuit breaker then rolls it back.",
        fix="Set health_check_grace_period to at least start period + (HealthyThresholdCount + 1) x "
        "HealthCheckIntervalSeconds + HealthCheckTimeoutSeconds, plus an allowance for the image pull.",
        instability=Instability.HEALTH,
    ),
    # --- Images --------------------------------------------------------------------------
    RuleSpec(
        "SF-IMG1", ERROR, img1_moving_tag,
        info="A container image is untagged, on 'latest', or on a tag that moves (main, stable, prod, ...).",
        rationale="A moving tag names a branch, not a build: two tasks of one service, or staging and prod, can "
        "run different code, and a scale-out or a restart silently deploys whatever was pushed last.",
        fix="Pin the release tag CI pushed (v1.4.2) or its digest (@sha256:...), e.g. ImageRef.release(...).",
        instability=Instability.IMAGES,
    ),
    RuleSpec(
        "SF-IMG2", ERROR, img2_mutable_tags,
        info="The ECR repository lets a pushed tag be overwritten (ImageTagMutability MUTABLE, ECR's default).",
        rationale="With mutable tags even a pinned release tag can change its bytes under a running service; a "
        "rollback by tag may not return the code that was running.",
        fix="Set image_tag_mutability=ecr.TagMutability.IMMUTABLE (HardenedRepository does).",
        instability=Instability.IMAGES,
    ),
    RuleSpec(
        "SF-IMG3", WARN, img3_scan_on_push,
        info="The ECR repository does not scan images on push, and no registry scanning rule covers it.",
        rationale="A release with a known critical vulnerability is found only after it runs, when the fix is an "
        "unplanned release.",
        fix="Set image_scan_on_push=True, or a registry scanning rule (SCAN_ON_PUSH or CONTINUOUS_SCAN) that "
        "matches the repository.",
        instability=Instability.IMAGES,
    ),
    RuleSpec(
        "SF-IMG4", WARN, img4_lifecycle_policy,
        info="The ECR repository has no lifecycle policy.",
        rationale="Untagged layers and old builds accumulate without bound (storage is billed), and nothing "
        "decides which releases stay available to roll back to.",
        fix="Add lifecycle rules: expire untagged images after days, keep a count of releases by a selection no "
        "other rule shares (see SF-IMG5).",
        instability=Instability.IMAGES,
    ),
    RuleSpec(
        "SF-IMG5", ERROR, img5_lifecycle_overlap,
        info="A lifecycle rule that keeps the last N images also counts images another rule's selection matches.",
        rationale="ECR counts every image a rule's selection matches, including those a higher-priority rule "
        "keeps: a 'keep 30' rule on prefix 'v' counts release candidates v1.9.0-rc.1, so a busy week of "
        "candidates expires the release prod runs, and the next scale-out cannot pull it.",
        fix="Give each count rule a selection no other rule matches (distinct prefixes such as 'release-' and "
        "'rc-'), or put the narrower rule first and expire the broader selection by age; pin the tags environments "
        "run with exact-tag rules first.",
        instability=Instability.IMAGES,
    ),
    # --- Queues and workers --------------------------------------------------------------
    RuleSpec(
        "SF-QUEUE1", ERROR, queue1_dead_letter_queue,
        info="The queue has no dead-letter queue (and is not itself one).",
        rationale="A poison message is received, fails and returns forever: it holds a worker, keeps the backlog "
        "alarm quiet or firing, and is lost only when its retention ends.",
        fix="Give the queue dead_letter_queue=sqs.DeadLetterQueue(queue=..., max_receive_count=5) and alarm on "
        "arrivals in the DLQ.",
        instability=Instability.QUEUES,
    ),
    RuleSpec(
        "SF-QUEUE2", ERROR, queue2_visibility_timeout,
        info="The queue's visibility timeout is shorter than its consuming container's stop timeout.",
        rationale="On scale-in or a deployment a stopping worker may keep a message for its whole stop timeout; "
        "the message becomes visible before that and a second worker processes it too (a duplicate import or "
        "payment).",
        fix="Set visibility_timeout to at least 2 x the longest processing time and above the consumer's "
        "stop_timeout (QueueWorker derives both).",
        instability=Instability.QUEUES,
    ),
    RuleSpec(
        "SF-QUEUE3", WARN, queue3_cpu_and_queue,
        info="The worker's scalable target has policies on CPU and on the queue at once.",
        rationale="The two signals pull against each other: a backlog of I/O-bound messages keeps CPU low, so the "
        "CPU policy scales in while the queue policy scales out, and the service flaps (aws_ecs_patterns' "
        "QueueProcessingFargateService does this).",
        fix="Scale a worker on its queue alone, by backlog per task (QueueWorker), and remove the CPU policy.",
        instability=Instability.COSTS,
    ),
    RuleSpec(
        "SF-QUEUE4", WARN, queue4_queue_signal_period,
        info="A scaling alarm reads its queue metric over a period longer than 60 s.",
        rationale="SQS publishes every minute; a five-minute statistic adds up to five minutes before a burst "
        "starts a task, while messages wait.",
        fix="Use one-minute periods on queue metrics that drive scaling.",
        instability=Instability.QUEUES,
    ),
    # --- Scaling and cost ----------------------------------------------------------------
    RuleSpec(
        "SF-SCALE1", WARN, scale1_cooldowns,
        info="Target tracking on the ECS service scales in within 300 s of the last scale-in, or out more than "
        "120 s after the last scale-out (Application Auto Scaling's default is 300 s for both).",
        rationale="A short scale-in cooldown follows every dip and starts a saw-tooth of launches; a long "
        "scale-out cooldown leaves a spike unserved.",
        fix="Set scale_in_cooldown=300 s and scale_out_cooldown=60 s.",
        instability=Instability.COSTS,
    ),
    RuleSpec(
        "SF-SCALE2", WARN, scale2_max_capacity,
        info="The ECS service's MaxCapacity is at or above ECS's 5,000 tasks-per-service quota: no real maximum.",
        rationale="Only the quota bounds a runaway scale-out (a retry storm, a bad metric): the bill and the load "
        "on every dependency grow with it.",
        fix="Set max_capacity to what the service and its dependencies can take, per environment.",
        instability=Instability.COSTS,
    ),
    RuleSpec(
        "SF-SCALE3", ERROR, scale3_fargate_size,
        info="The Fargate task definition's CPU/memory pair is not one Fargate accepts.",
        rationale="The deploy fails minutes in, and only in the environment whose size is invalid.",
        fix="Use a valid pair (256: 512-2048 MiB; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384; "
        "4096: 8192-30720; 8192: 16384-61440 in 4096 steps; 16384: 32768-122880 in 8192 steps).",
        instability=Instability.DRIFT,
    ),
    RuleSpec(
        "SF-SCALE4", WARN, scale4_spot_fallback,
        info="The service runs on FARGATE_SPOT with no FARGATE entry of base or weight at least 1.",
        rationale="When Spot has no capacity, or reclaims every task at once, the service runs nothing and its "
        "queue backs up until Spot returns.",
        fix="Keep an on-demand share: a FARGATE entry with base=1 (or weight >= 1) beside FARGATE_SPOT.",
        instability=Instability.QUEUES,
    ),
    # --- Configuration -------------------------------------------------------------------
    RuleSpec(
        "SF-CFG1", ERROR, cfg1_secret_in_environment,
        info="A plain environment variable's name looks like a secret (PASSWORD, TOKEN, SECRET, API_KEY, ...).",
        rationale="A plain value sits in the task definition, readable by anyone who may describe it, and "
        "rotating it needs a redeploy in every environment, so one of them runs the old value.",
        fix="Pass it as an ECS secret from Secrets Manager or SSM SecureString (secrets=..., by reference).",
        instability=Instability.DRIFT,
    ),
    RuleSpec(
        "SF-CFG2", ERROR, cfg2_postgres_ssl,
        info="A Postgres client (PGHOST/PGSSLMODE in its environment) does not set PGSSLMODE=verify-full.",
        rationale="The libpq default 'prefer' falls back to plain text and never checks the server; 'require' "
        "accepts any certificate. A connection that works in one environment fails in another when the server "
        "enforces SSL, and credentials can cross the network in clear.",
        fix="Set PGSSLMODE=verify-full (with RDS Proxy, sslrootcert=system on libpq 16+).",
        instability=Instability.POSTGRES,
    ),
    # --- Alarms that fail silently -------------------------------------------------------
    RuleSpec(
        "SF-ALARM1", ERROR, alarm1_topic_policy,
        info="Alarms notify this topic, but its topic policy does not allow cloudwatch.amazonaws.com sns:Publish.",
        rationale="A topic policy (enforce_ssl writes one) replaces SNS's default policy; without an Allow for "
        "CloudWatch every alarm fires into nothing and no one is paged.",
        fix="Add a statement allowing cloudwatch.amazonaws.com sns:Publish, scoped by aws:SourceAccount and "
        "aws:SourceArn (this account's alarms).",
        instability=Instability.QUEUES,
    ),
    RuleSpec(
        "SF-ALARM2", ERROR, alarm2_topic_key,
        info="Alarms notify this encrypted topic, but its KMS key does not let CloudWatch use it.",
        rationale="CloudWatch must generate a data key to publish to an encrypted topic; without "
        "kms:GenerateDataKey* and kms:Decrypt for cloudwatch.amazonaws.com (impossible with alias/aws/sns) every "
        "notification fails silently.",
        fix="Encrypt with a customer managed key whose policy allows cloudwatch.amazonaws.com kms:GenerateDataKey* "
        "and kms:Decrypt (PlatformKey does).",
        instability=Instability.QUEUES,
    ),
    RuleSpec(
        "SF-ALARM3", ERROR, alarm3_dead_letter_alarm,
        info="An alarm on a dead-letter queue's visible messages uses a static threshold: it pages once.",
        rationale="The alarm enters ALARM on the first failed message and stays there until the DLQ is emptied; "
        "CloudWatch notifies on state changes, so every later failure goes unnoticed.",
        fix="Alarm on arrivals (e.g. RATE or DIFF of the DLQ's visible messages > 0 over a minute) with OK "
        "actions, so each new failure pages again.",
        instability=Instability.QUEUES,
    ),
)

RULES_BY_ID: Mapping[str, RuleSpec] = {rule.id: rule for rule in RULES}

RULES_BY_TYPE: Mapping[str, tuple[RuleSpec, ...]] = {
    resource_type: tuple(rule for rule in RULES if resource_type in rule.resource_types)
    for resource_type in sorted({t for rule in RULES for t in rule.resource_types})
}
"""Which rules check a node of each CloudFormation type (other nodes cost nothing)."""


def verdict(spec: RuleSpec, resource: Resource | None, problems: list[str]) -> NagRuleCompliance:
    """``spec``'s verdict on ``resource``; not applicable when the node is not in the templates
    or the rule raised (recorded in ``problems``: a throw would become a finding that fails synth)."""
    if resource is None:
        return NagRuleCompliance.NOT_APPLICABLE
    try:
        return spec.check(resource)
    except Exception as error:
        problems.append(f"{spec.id} on {resource!r}: {type(error).__name__}: {error}")
        return NagRuleCompliance.NOT_APPLICABLE


@jsii.implements(IApplyRule)
class _AppliedRule:
    """One rule's verdict on one node, in the shape cdk-nag's ``applyRule`` takes (jsii sees
    only properties, not plain attributes)."""

    def __init__(self, spec: RuleSpec, node: CfnResource, verdict: NagRuleCompliance) -> None:
        self._spec, self._node, self._verdict = spec, node, verdict

    @property
    def node(self) -> CfnResource:
        return self._node

    @property
    def info(self) -> str:
        return self._spec.info

    @property
    def explanation(self) -> str:
        return self._spec.explanation

    @property
    def level(self) -> NagMessageLevel:
        return self._spec.level

    @property
    def rule_suffix_override(self) -> str:
        return self._spec.suffix

    def rule(self, node: CfnResource) -> NagRuleCompliance:
        return self._verdict


@dataclass
class _Assembly:
    """The templates of the app being validated, by the construct path of their stack."""

    app: AppTemplates
    stacks: dict[str, StackTemplate]


class StableFargateChecks(NagPack):
    """The stable_fargate rules as a cdk-nag 3 pack (ids ``SF-<AREA><N>``, see RULES.md).

    :param scope: the app (cdk-nag uses it to write acknowledgements into templates when
        ``write_suppressions_to_cloud_formation`` is asked for). Default: none.
    :param verbose: findings carry the explanation and the fix, not only the info.
        Default: False.
    """

    def __init__(self, scope: IConstruct | None = None, *, verbose: bool = False) -> None:
        super().__init__(scope, verbose=verbose)
        self._pack_name = PACK_NAME
        self._assembly: _Assembly | None = None
        self._seen: set[str] = set()
        self._stack_paths: dict[Stack, str] = {}
        self.problems: list[str] = []
        """Errors a rule met (and answered not applicable), and stacks without a template."""

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    def _check_resource(self, node: CfnResource) -> None:
        rules: tuple[RuleSpec, ...] = ()
        resource: Resource | None = None
        try:
            rules = RULES_BY_TYPE.get(_resource_type(node), ())
            resource = self._resource_of(node) if rules else None
        except Exception as error:  # never let the walk fail: the rules answer not applicable
            self.problems.append(f"{type(error).__name__} while reading a node: {error}")
        for spec in rules:
            found = verdict(spec, resource, self.problems)
            # cdk-nag records only a non-compliant verdict (or acknowledges it): the rules are judged
            # here first, and only a finding is handed over, since every property cdk-nag reads
            # from a Python rule is a call from Node.js back into Python (six per rule and node).
            if found == NagRuleCompliance.NON_COMPLIANT:
                # cast: jsii reads the properties; the protocol's setters are never called.
                self._apply_rule(cast(IApplyRule, _AppliedRule(spec, node, found)))

    def _resource_of(self, node: CfnResource) -> Resource | None:
        # Every read below is a call into jsii: a node is known by its jsii reference, which
        # needs none, and a stack's path is asked once.
        identity = _identity(node)
        if identity in self._seen:  # a second walk (another synth of the app): read the new templates
            self._assembly, self._seen, self._stack_paths = None, set(), {}
        self._seen.add(identity)
        stack = Stack.of(node)
        if stack not in self._stack_paths:
            self._stack_paths[stack] = stack.node.path
        assembly = self._assembly or self._read_assembly(node)
        template = assembly.stacks.get(self._stack_paths[stack])
        if template is None:
            return None
        logical_id = stack.resolve(node.logical_id)
        return template.resources.get(logical_id) if isinstance(logical_id, str) else None

    def _read_assembly(self, node: IConstruct) -> _Assembly:
        app = AppTemplates()
        stacks: dict[str, StackTemplate] = {}
        for construct in node.node.root.node.find_all():
            if not isinstance(construct, Stack):
                continue
            stage = Stage.of(construct)
            path = Path(stage.outdir if stage is not None else ".") / construct.template_file
            template = read_template(path)
            if template is None:
                self.problems.append(
                    f"{construct.node.path}: no synthesized template at {path.name}; run the pack as a validation "
                    "plugin (Validations.of(app).add_plugins(...)) so that it checks the templates this synth wrote"
                )
                continue
            stacks[construct.node.path] = app.add(
                StackTemplate(name=construct.stack_name, template=template, environment=_environment(construct))
            )
        self._assembly = _Assembly(app, stacks)
        return self._assembly


def _environment(stack: Stack) -> str | None:
    """``account/region`` of a stack with an explicit environment, else None."""
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        return None
    return f"{stack.account}/{stack.region}"


def _identity(node: CfnResource) -> str:
    """The node's jsii reference (one per object in Node.js, read without a call), else its path."""
    reference = getattr(getattr(node, "__jsii_ref__", None), "ref", None)
    return reference if isinstance(reference, str) else node.node.path


def _resource_type(node: CfnResource) -> str:
    # The L1 class knows its type without a call into jsii; a plain CfnResource is asked.
    known = getattr(type(node), "CFN_RESOURCE_TYPE_NAME", None)
    return known if isinstance(known, str) else node.cfn_resource_type


def rules_markdown() -> str:
    """RULES.md, generated from :data:`RULES` so the table and the pack never disagree."""
    lines = [
        "# StableFargateChecks rules",
        "",
        "<!-- Generated from stable_fargate/checks/pack.py by scripts/write_rules_md.py; do not edit by hand. -->",
        "",
        "The cdk-nag 3 pack `stable_fargate.StableFargateChecks` finds, in any CDK app, the instabilities this",
        "library prevents. Add it with `Validations.of(app).add_plugins(StableFargateChecks(app))`; acknowledge a",
        "finding on the construct it concerns with `Validations.of(construct).acknowledge(Acknowledgment(id=\"SF-ROLL2\",",
        "reason=\"...\"))`. Errors and warnings both fail `app.synth()`; the level says how sure the rule is that",
        "the setting is wrong in every app.",
        "",
        "Rules read the synthesized templates, so they see escape-hatch overrides too, and they reason across",
        "resources (a service and its task definition, target groups, scalable target, policies and alarms; a",
        "queue and its consumers; a topic and the alarms that notify it, in other stacks too). ELB, ECS, SQS and",
        "Application Auto Scaling defaults apply where a property is absent. What a rule answers when a value is",
        "only known at deploy time (a parameter, an import from outside the app) is in the last section.",
        "",
        "| id | level | what it finds | why it makes releases unstable | instability it prevents | how to fix |",
        "|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        level = "Error" if rule.level == NagMessageLevel.ERROR else "Warning"
        cells = [f"`{rule.id}`", level, rule.info, rule.rationale, rule.instability.value, rule.fix]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "## Per rule: what it reads, defaults, and values unknown at synth", ""]
    for rule in RULES:
        doc = " ".join((rule.module.__doc__ or "").split("\n\n", 1)[-1].split())
        lines += [f"- **{rule.id}** ({', '.join(f'`{t}`' for t in rule.resource_types)}): {doc}"]
    return "\n".join(lines) + "\n"
