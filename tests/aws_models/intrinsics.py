"""Resolve CloudFormation values of a synthesized template to concrete strings.

A policy in a template says ``"Resource": {"Ref": "AlarmTopicD01E77F9"}``; a policy evaluator
needs ``arn:aws:sns:eu-west-2:333333333333:AlarmTopicD01E77F9``. This module turns one into the
other for a given :class:`Environment`, so the other models can work on template data.

Documentation followed (CloudFormation Template Reference):

- Intrinsic functions: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If,
  Fn::Equals/And/Or/Not, Fn::FindInMap, Fn::Base64, Fn::ImportValue
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference.html
- Fn::GetStackOutput ({StackName, OutputName, Region?, RoleArn?}; a weak reference)
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getstackoutput.html
- Pseudo parameters (AWS::AccountId, AWS::Region, AWS::Partition, AWS::URLSuffix,
  AWS::StackName, AWS::StackId, AWS::NoValue)
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html
- What Ref and Fn::GetAtt return per resource type: the "Return values" section of each
  resource's page, e.g.
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-topic.html#aws-resource-sns-topic-return-values

Simplifications, on purpose:

- A resource without an explicit name property gets its logical id as name (CloudFormation
  would generate ``<stack>-<logicalId>-<random>``); generated ids (key ids, vpc-..., sg-...)
  are stable fakes derived from the logical id. Compare values through the resolver, never
  with hand-written physical names, unless the template fixes the name.
- Values from other stacks come only from what the caller supplies (``imports``,
  ``stack_outputs``); anything else the model cannot know is an :class:`IntrinsicError`
  that names what is missing, never a silent guess.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Environment", "IntrinsicError", "Resolver", "UnknownIntrinsicError"]


class IntrinsicError(ValueError):
    """A value the model cannot resolve; the message says which and what to supply."""


class UnknownIntrinsicError(IntrinsicError):
    """An intrinsic function the model does not implement."""


@dataclass(frozen=True)
class Environment:
    """Where a stack is deployed: what the pseudo parameters resolve to."""

    account: str
    region: str
    partition: str = "aws"
    stack_name: str = "Stack"

    @property
    def url_suffix(self) -> str:
        # AWS::URLSuffix: amazonaws.com, except China (amazonaws.com.cn).
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        """An ARN in this partition; region and account default to this environment's."""
        region = self.region if region is None else region
        account = self.account if account is None else account
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"


class _NoValue:
    """AWS::NoValue: the property or list element it stands in is removed."""


NO_VALUE = _NoValue()

# The property that fixes a resource's physical name, when the template sets it.
_NAME_PROPERTY = {
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ECS::Service": "ServiceName",
    "AWS::ECS::TaskDefinition": "Family",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "PolicyName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SSM::Parameter": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::WAFv2::WebACL": "Name",
}


@dataclass(frozen=True)
class _Physical:
    """What the default attributes of one resource are computed from."""

    env: Environment
    logical_id: str
    name: str
    properties: Mapping[str, Any]
    resolver: Resolver

    @property
    def fake_id(self) -> str:
        """A stable stand-in for a generated id (hex, derived from the logical id)."""
        return hashlib.sha256(self.logical_id.encode()).hexdigest()

    def prop(self, key: str, default: str) -> str:
        return self.resolver.resolve_str(self.properties[key]) if key in self.properties else default


def _ecs_service(p: _Physical) -> dict[str, str]:
    cluster = p.prop("Cluster", "default")
    cluster = cluster.split(":cluster/", 1)[-1]
    arn = p.env.arn("ecs", f"service/{cluster}/{p.name}")
    return {"Ref": arn, "ServiceArn": arn, "Name": p.name}


def _load_balancer(p: _Physical) -> dict[str, str]:
    kind = "net" if p.prop("Type", "application") == "network" else "app"
    full_name = f"{kind}/{p.name}/{p.fake_id[:16]}"
    arn = p.env.arn("elasticloadbalancing", f"loadbalancer/{full_name}")
    return {
        "Ref": arn,
        "LoadBalancerArn": arn,
        "LoadBalancerFullName": full_name,
        "LoadBalancerName": p.name,
        "DNSName": f"{p.name}-{p.fake_id[:8]}.{p.env.region}.elb.{p.env.url_suffix}",
        "CanonicalHostedZoneID": "Z" + p.fake_id[:12].upper(),
    }


def _target_group(p: _Physical) -> dict[str, str]:
    full_name = f"targetgroup/{p.name}/{p.fake_id[:16]}"
    arn = p.env.arn("elasticloadbalancing", full_name)
    return {"Ref": arn, "TargetGroupArn": arn, "TargetGroupFullName": full_name, "TargetGroupName": p.name}


def _scalable_target(p: _Physical) -> dict[str, str]:
    # Ref: "<ResourceId>|<ScalableDimension>|<ServiceNamespace>", e.g. service/c/s|ecs:service:DesiredCount|ecs
    parts = (p.prop("ResourceId", p.logical_id), p.prop("ScalableDimension", ""), p.prop("ServiceNamespace", ""))
    return {"Ref": "|".join(parts)}


def _scaling_policy(p: _Physical) -> dict[str, str]:
    resource = p.prop("ResourceId", "") or p.prop("ScalingTargetId", p.logical_id).split("|")[0]
    h = p.fake_id
    arn = p.env.arn(
        "autoscaling", f"scalingPolicy:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}:resource/{resource}:policyName/{p.name}"
    )
    return {"Ref": arn, "Arn": arn}


def _web_acl(p: _Physical) -> dict[str, str]:
    web_acl_id = p.fake_id[:36]
    scope = p.prop("Scope", "REGIONAL")
    arn = p.env.arn("wafv2", f"{scope.lower()}/webacl/{p.name}/{web_acl_id}", region="global" if scope == "CLOUDFRONT" else None)
    return {"Ref": f"{p.name}|{web_acl_id}|{scope}", "Arn": arn, "Id": web_acl_id}


def _kms_key(p: _Physical) -> dict[str, str]:
    h = p.fake_id
    key_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return {"Ref": key_id, "KeyId": key_id, "Arn": p.env.arn("kms", f"key/{key_id}")}


def _iam_role(p: _Physical) -> dict[str, str]:
    path = p.prop("Path", "/")
    arn = f"arn:{p.env.partition}:iam::{p.env.account}:role{path}{p.name}"
    return {"Ref": p.name, "Arn": arn, "RoleId": "AROA" + p.fake_id[:17].upper()}


def _sqs_queue(p: _Physical) -> dict[str, str]:
    url = f"https://sqs.{p.env.region}.{p.env.url_suffix}/{p.env.account}/{p.name}"
    return {"Ref": url, "QueueUrl": url, "QueueName": p.name, "Arn": p.env.arn("sqs", p.name)}


def _named_arn(
    service: str, resource: Callable[[str], str], ref_is_arn: bool = False, **extra: Callable[[_Physical], str]
) -> Callable[[_Physical], dict[str, str]]:
    """Defaults for the common shape: Ref = name (or ARN), GetAtt Arn = ARN."""

    def defaults(p: _Physical) -> dict[str, str]:
        arn = p.env.arn(service, resource(p.name))
        attributes = {"Ref": arn if ref_is_arn else p.name, "Arn": arn}
        attributes.update({key: make(p) for key, make in extra.items()})
        return attributes

    return defaults


def _generated_id(prefix: str, **extra: Callable[[_Physical], str]) -> Callable[[_Physical], dict[str, str]]:
    """Defaults for EC2-style resources whose Ref is a generated id such as vpc-0123...."""

    def defaults(p: _Physical) -> dict[str, str]:
        attributes = {"Ref": f"{prefix}-{p.fake_id[:17]}"}
        attributes.update({key: make(p) for key, make in extra.items()})
        return attributes

    return defaults


# Ref and Fn::GetAtt values per type, from each type's "Return values" documentation.
_DEFAULTS: dict[str, Callable[[_Physical], dict[str, str]]] = {
    "AWS::SNS::Topic": lambda p: {
        "Ref": p.env.arn("sns", p.name),
        "TopicArn": p.env.arn("sns", p.name),
        "TopicName": p.name,
    },
    "AWS::SQS::Queue": _sqs_queue,
    "AWS::KMS::Key": _kms_key,
    "AWS::KMS::Alias": lambda p: {"Ref": p.name},
    "AWS::S3::Bucket": lambda p: {
        "Ref": p.name,
        "Arn": f"arn:{p.env.partition}:s3:::{p.name}",
        "DomainName": f"{p.name}.s3.{p.env.url_suffix}",
        "RegionalDomainName": f"{p.name}.s3.{p.env.region}.{p.env.url_suffix}",
    },
    "AWS::ECS::Cluster": _named_arn("ecs", lambda n: f"cluster/{n}"),
    "AWS::ECS::Service": _ecs_service,
    "AWS::ECS::TaskDefinition": lambda p: {
        "Ref": p.env.arn("ecs", f"task-definition/{p.name}:1"),
        "TaskDefinitionArn": p.env.arn("ecs", f"task-definition/{p.name}:1"),
    },
    "AWS::CloudWatch::Alarm": _named_arn("cloudwatch", lambda n: f"alarm:{n}"),
    "AWS::ECR::Repository": _named_arn(
        "ecr",
        lambda n: f"repository/{n}",
        RepositoryUri=lambda p: f"{p.env.account}.dkr.ecr.{p.env.region}.{p.env.url_suffix}/{p.name}",
    ),
    "AWS::IAM::Role": _iam_role,
    "AWS::IAM::Policy": lambda p: {"Ref": p.name},
    "AWS::Logs::LogGroup": _named_arn("logs", lambda n: f"log-group:{n}:*"),
    "AWS::Lambda::Function": _named_arn("lambda", lambda n: f"function:{n}"),
    "AWS::Events::Rule": _named_arn("events", lambda n: f"rule/{n}"),
    "AWS::Scheduler::Schedule": _named_arn("scheduler", lambda n: f"schedule/default/{n}"),
    "AWS::StepFunctions::StateMachine": _named_arn("states", lambda n: f"stateMachine:{n}", ref_is_arn=True, Name=lambda p: p.name),
    "AWS::SecretsManager::Secret": _named_arn("secretsmanager", lambda n: f"secret:{n}-AbCdEf", ref_is_arn=True),
    "AWS::SSM::Parameter": lambda p: {"Ref": p.name},
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _load_balancer,
    "AWS::ElasticLoadBalancingV2::TargetGroup": _target_group,
    "AWS::ApplicationAutoScaling::ScalableTarget": _scalable_target,
    "AWS::ApplicationAutoScaling::ScalingPolicy": _scaling_policy,
    "AWS::WAFv2::WebACL": _web_acl,
    "AWS::EC2::VPC": _generated_id(
        "vpc",
        CidrBlock=lambda p: p.prop("CidrBlock", "10.0.0.0/16"),
        VpcId=lambda p: f"vpc-{p.fake_id[:17]}",
        DefaultSecurityGroup=lambda p: f"sg-{p.fake_id[-17:]}",
    ),
    "AWS::EC2::Subnet": _generated_id("subnet", SubnetId=lambda p: f"subnet-{p.fake_id[:17]}"),
    "AWS::EC2::SecurityGroup": _generated_id("sg", GroupId=lambda p: f"sg-{p.fake_id[:17]}"),
    "AWS::EC2::RouteTable": _generated_id("rtb", RouteTableId=lambda p: f"rtb-{p.fake_id[:17]}"),
    "AWS::EC2::VPCEndpoint": _generated_id("vpce", Id=lambda p: f"vpce-{p.fake_id[:17]}"),
    "AWS::EC2::InternetGateway": _generated_id("igw", InternetGatewayId=lambda p: f"igw-{p.fake_id[:17]}"),
}

_PSEUDO = {
    "AWS::AccountId": lambda env: env.account,
    "AWS::Region": lambda env: env.region,
    "AWS::Partition": lambda env: env.partition,
    "AWS::URLSuffix": lambda env: env.url_suffix,
    "AWS::StackName": lambda env: env.stack_name,
    "AWS::StackId": lambda env: env.arn("cloudformation", f"stack/{env.stack_name}/00000000-0000-0000-0000-000000000000"),
}

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass
class Resolver:
    """Resolves the values of one template in one environment.

    ``attributes`` overrides (or adds) what Ref/GetAtt return: logical id -> {"Ref": ...,
    "Arn": ...}. ``imports`` maps export names (Fn::ImportValue); ``stack_outputs`` maps
    (stack name, output name) (Fn::GetStackOutput), e.g. from another stack's
    :meth:`outputs`. ``parameters`` and ``conditions`` override parameter defaults and
    condition results.
    """

    template: Mapping[str, Any]
    env: Environment
    attributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    imports: Mapping[str, str] = field(default_factory=dict)
    stack_outputs: Mapping[tuple[str, str], str] = field(default_factory=dict)
    conditions: Mapping[str, bool] = field(default_factory=dict)

    # --- the template's parts -------------------------------------------------------------

    def resources(self, resource_type: str | None = None) -> dict[str, Mapping[str, Any]]:
        """Logical id -> resource, optionally only those of one type."""
        resources: Mapping[str, Mapping[str, Any]] = self.template.get("Resources", {})
        return {lid: r for lid, r in resources.items() if resource_type is None or r.get("Type") == resource_type}

    def resource(self, logical_id: str) -> Mapping[str, Any]:
        resources = self.resources()
        if logical_id not in resources:
            raise IntrinsicError(f"no resource {logical_id!r} in the template")
        return resources[logical_id]

    def outputs(self) -> dict[str, str]:
        """This template's outputs, resolved: feed them to a consumer's ``stack_outputs``."""
        return {name: self.resolve_str(output["Value"]) for name, output in self.template.get("Outputs", {}).items()}

    def exports(self) -> dict[str, str]:
        """Export name -> value: feed them to a consumer's ``imports``."""
        exported = {}
        for output in self.template.get("Outputs", {}).values():
            if "Export" in output:
                exported[self.resolve_str(output["Export"]["Name"])] = self.resolve_str(output["Value"])
        return exported

    # --- Ref and Fn::GetAtt ---------------------------------------------------------------

    def attributes_of(self, logical_id: str) -> dict[str, str]:
        """Everything Ref/GetAtt return for a resource: model defaults, then the caller's."""
        resource = self.resource(logical_id)
        resource_type = resource.get("Type", "")
        supplied = dict(self.attributes.get(logical_id, {}))
        make_defaults = _DEFAULTS.get(resource_type)
        if make_defaults is None:
            if not supplied:
                raise IntrinsicError(
                    f"{logical_id} is a {resource_type}, which the model has no defaults for: "
                    f"supply attributes={{{logical_id!r}: {{'Ref': ..., 'Arn': ...}}}}"
                )
            return supplied
        properties: Mapping[str, Any] = resource.get("Properties", {})
        name_property = _NAME_PROPERTY.get(resource_type)
        if name_property and name_property in properties:
            name = self.resolve_str(properties[name_property])
        else:
            name = logical_id.lower() if resource_type == "AWS::S3::Bucket" else logical_id
        return {**make_defaults(_Physical(self.env, logical_id, name, properties, self)), **supplied}

    def ref(self, name: str) -> Any:
        """What ``{"Ref": name}`` resolves to: a pseudo parameter, parameter or resource."""
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::NotificationARNs":
            return []
        if name in _PSEUDO:
            return _PSEUDO[name](self.env)
        parameters: Mapping[str, Mapping[str, Any]] = self.template.get("Parameters", {})
        if name in parameters:
            return self._parameter(name, parameters[name])
        if name in self.resources():
            return self.attributes_of(name)["Ref"]
        raise IntrinsicError(f"Ref to {name!r}: not a pseudo parameter, parameter or resource of the template")

    def get_att(self, logical_id: str, attribute: str) -> str:
        attributes = self.attributes_of(logical_id)
        if attribute not in attributes:
            known = sorted(a for a in attributes if a != "Ref")
            raise IntrinsicError(f"Fn::GetAtt {logical_id}.{attribute}: the model knows {known}; supply it in attributes")
        return attributes[attribute]

    def find_by_attribute(self, attribute: str, value: str, resource_type: str | None = None) -> str | None:
        """The logical id whose ``attribute`` (e.g. "Arn") resolves to ``value``, if any."""
        for logical_id in self.resources(resource_type):
            try:
                if self.attributes_of(logical_id).get(attribute) == value:
                    return logical_id
            except IntrinsicError:
                continue
        return None

    def _parameter(self, name: str, declaration: Mapping[str, Any]) -> Any:
        if name in self.parameters:
            value = self.parameters[name]
        elif "Default" in declaration:
            value = str(declaration["Default"])
        else:
            raise IntrinsicError(f"parameter {name!r} has no Default: supply it in parameters")
        is_list = str(declaration.get("Type", "")).startswith(("List<", "CommaDelimitedList"))
        return value.split(",") if is_list else value

    # --- conditions -----------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        """The value of a named condition of the template (or the caller's override)."""
        if name in self.conditions:
            return self.conditions[name]
        declared: Mapping[str, Any] = self.template.get("Conditions", {})
        if name not in declared:
            raise IntrinsicError(f"no condition {name!r} in the template")
        return self._condition_value(declared[name])

    def _condition_value(self, expression: Any) -> bool:
        if isinstance(expression, bool):
            return expression
        if not (isinstance(expression, Mapping) and len(expression) == 1):
            raise IntrinsicError(f"not a condition expression: {expression!r}")
        ((function, args),) = expression.items()
        if function == "Condition":
            return self.condition(args)
        if function == "Fn::Equals":
            left, right = (self.resolve(a) for a in args)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self._condition_value(args[0])
        if function == "Fn::And":
            return all(self._condition_value(a) for a in args)
        if function == "Fn::Or":
            return any(self._condition_value(a) for a in args)
        raise UnknownIntrinsicError(f"{function} is not a condition function the model knows")

    # --- resolution -----------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function replaced by its result (AWS::NoValue removed)."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, args),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, args)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def resolve_str(self, value: Any) -> str:
        """``resolve`` for a value that must be a string (an ARN, a name)."""
        resolved = self.resolve(value)
        if isinstance(resolved, bool) or not isinstance(resolved, str | int | float):
            raise IntrinsicError(f"{value!r} resolves to {resolved!r}, not a string")
        return str(resolved)

    def _intrinsic(self, function: str, args: Any) -> Any:
        if function == "Ref":
            return self.ref(args)
        if function == "Fn::GetAtt":
            logical_id, attribute = args.split(".", 1) if isinstance(args, str) else args
            return self.get_att(logical_id, self.resolve_str(attribute))
        if function == "Fn::Join":
            delimiter, items = args
            return delimiter.join(self._strings(items, function))
        if function == "Fn::Sub":
            return self._sub(args)
        if function == "Fn::Select":
            index, items = args
            items = self._strings(items, function)
            position = int(self.resolve_str(index))
            if not 0 <= position < len(items):
                raise IntrinsicError(f"Fn::Select index {position} out of range for {items}")
            return items[position]
        if function == "Fn::Split":
            delimiter, source = args
            return self.resolve_str(source).split(delimiter)
        if function == "Fn::If":
            name, when_true, when_false = args
            return self.resolve(when_true if self.condition(name) else when_false)
        if function == "Fn::FindInMap":
            map_name, top, second = (self.resolve_str(a) for a in args)
            try:
                return self.template["Mappings"][map_name][top][second]
            except KeyError:
                raise IntrinsicError(f"Fn::FindInMap: no {map_name}/{top}/{second} in Mappings") from None
        if function == "Fn::Base64":
            return base64.b64encode(self.resolve_str(args).encode()).decode()
        if function == "Fn::ImportValue":
            return self._from(self.imports, self.resolve_str(args), "Fn::ImportValue", "imports")
        if function == "Fn::GetStackOutput":
            key = (self.resolve_str(args["StackName"]), self.resolve_str(args["OutputName"]))
            return self._from(self.stack_outputs, key, "Fn::GetStackOutput", "stack_outputs")
        if function in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self._condition_value({function: args})
        raise UnknownIntrinsicError(f"{function} is not an intrinsic function the model implements")

    def _strings(self, items: Any, function: str) -> list[str]:
        resolved = self.resolve(items)
        if not isinstance(resolved, list):
            raise IntrinsicError(f"{function} needs a list, got {resolved!r}")
        return [self.resolve_str(item) for item in resolved]

    def _from(self, supplied: Mapping[Any, str], key: Any, function: str, argument: str) -> str:
        if key not in supplied:
            raise IntrinsicError(f"{function} {key!r}: the model knows no other stack; supply it in {argument}=")
        return supplied[key]

    def _sub(self, args: Any) -> str:
        text, variables = (args, {}) if isinstance(args, str) else (args[0], args[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} writes ${Literal}
            if name in variables:
                return self.resolve_str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.resolve_str({"Ref": name})

        return _SUB_VARIABLE.sub(replace, text)
