"""Which images an ECR lifecycle policy expires: once, or over a history of pushes.

Documentation followed (Amazon ECR User Guide):

- "Lifecycle policy evaluation rules"
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
  - "All rules are evaluated at the same time, regardless of rule priority. After all rules
    are evaluated, they are then applied based on rule priority."
  - "An image is expired by exactly one or zero rules."
  - "An image that matches the tagging requirements of a rule cannot be expired by a rule
    with a lower priority."
  - "Rules can never mark images that are marked by higher priority rules, but can still
    identify them as if they haven't been expired." (A rule counts every image it selects.)
  - "The set of rules must contain a unique set of tag prefixes."
  - "Only one rule is allowed to select untagged images."
  - "Expiration is always ordered by pushed_at_time, and always expires older images before
    newer ones."
  - "When using the tagPrefixList, an image is successfully matched if all of the tags in
    the tagPrefixList value are matched against any of the image's tags."
  - imageCountMoreThan: "images are sorted from youngest to oldest based on pushed_at_time
    and then all images greater than the specified count are expired"; sinceImagePushed: "all
    images whose pushed_at_time is older than the specified number of days ... are expired".
  - Images are expired "within 24 hours" of meeting the criteria (``run_history``'s cadence).
- Properties: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
  - unique rulePriority; a rule with tagStatus ``any`` must have the highest rulePriority;
  - ``tagged`` needs tagPrefixList or tagPatternList; ``untagged`` must omit both;
  - tagPatternList: "If you specify multiple tags, only the images with all specified tags
    are selected"; ``*`` is a wildcard (``prod*`` selects prod, prod1, prod2); "maximum limit
    of four wildcards (*) per string";
  - tagPrefixList is "only used if you specified tagStatus tagged and didn't specify
    tagPatternList" (so with both, the prefixes are ignored; the docs do not say ECR refuses it);
  - countUnit ``days`` with sinceImagePushed only ("an error will occur if you specify a count
    unit when countType is any other value"); countNumber a positive integer.
- Worked examples (reproduced in the tests):
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_examples.html
- Tag mutability (a pushed tag moves, or the push is refused):
  https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html

Not documented, so chosen here and said out loud: tags and patterns match case-sensitively;
"older than N days" is strict (exactly N days old is kept); images pushed at the same instant
are ordered by digest. Archive storage, ``transition`` actions and the ``sinceImagePulled`` /
``sinceImageTransitioned`` count types are not modelled (:class:`UnsupportedByModelError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

__all__ = [
    "Evaluation",
    "History",
    "Image",
    "ImageTagAlreadyExistsError",
    "InvalidLifecyclePolicyError",
    "Rule",
    "UnsupportedByModelError",
    "evaluate",
    "run_history",
    "validate_policy",
]

TagStatus = Literal["tagged", "untagged", "any"]
CountType = Literal["imageCountMoreThan", "sinceImagePushed"]


class InvalidLifecyclePolicyError(ValueError):
    """What PutLifecyclePolicy would refuse, per the documentation; ``problems`` lists each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class UnsupportedByModelError(ValueError):
    """A documented feature this model does not implement (archive, transition, pull age)."""


class ImageTagAlreadyExistsError(ValueError):
    """An immutable repository refuses a push whose tag another image holds."""


@dataclass(frozen=True)
class Image:
    digest: str
    tags: frozenset[str]
    pushed_at: datetime

    @classmethod
    def pushed(cls, digest: str, pushed_at: datetime, *tags: str) -> Image:
        return cls(digest, frozenset(tags), pushed_at)


@dataclass(frozen=True)
class Rule:
    priority: int
    tag_status: TagStatus
    count_type: CountType
    count_number: int
    prefixes: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    description: str = ""

    def selects(self, image: Image) -> bool:
        """The rule's tagging requirements: every listed prefix/pattern matches some tag."""
        if self.tag_status == "any":
            return True
        if self.tag_status == "untagged":
            return not image.tags
        if self.patterns:  # with both lists, the prefixes are not used
            return bool(image.tags) and all(any(_pattern(p).fullmatch(t) for t in image.tags) for p in self.patterns)
        return bool(image.tags) and all(any(t.startswith(p) for t in image.tags) for p in self.prefixes)

    def marks(self, selected: Iterable[Image], now: datetime) -> set[str]:
        """Digests this rule would expire among the images it selects, were it alone."""
        if self.count_type == "sinceImagePushed":
            return {i.digest for i in selected if now - i.pushed_at > timedelta(days=self.count_number)}
        newest_first = sorted(selected, key=lambda i: (i.pushed_at, i.digest), reverse=True)
        return {i.digest for i in newest_first[self.count_number :]}


def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


@dataclass(frozen=True)
class Evaluation:
    """``expired``: digest -> priority of the rule that expires it. ``owner``: digest -> the
    highest-priority rule that selects the image (only that rule may expire it)."""

    expired: Mapping[str, int]
    owner: Mapping[str, int]


def evaluate(policy: str | Mapping[str, Any], images: Iterable[Image], now: datetime) -> Evaluation:
    """One lifecycle run at ``now``: every rule marks what it selects (counting images that
    higher rules also select); an image expires only if the first rule selecting it marks it."""
    return _evaluate(validate_policy(policy), list(images), now)


def _evaluate(rules: Sequence[Rule], images: list[Image], now: datetime) -> Evaluation:
    if len({i.digest for i in images}) != len(images):
        raise ValueError("digests must be unique")
    marked = {rule.priority: rule.marks([i for i in images if rule.selects(i)], now) for rule in rules}
    owner: dict[str, int] = {}
    for image in images:
        first = next((rule for rule in rules if rule.selects(image)), None)
        if first is not None:
            owner[image.digest] = first.priority
    expired = {digest: priority for digest, priority in owner.items() if digest in marked[priority]}
    return Evaluation(expired, owner)


@dataclass(frozen=True)
class History:
    survivors: tuple[Image, ...]
    expired_at: Mapping[str, datetime] = field(default_factory=dict)
    expired_by: Mapping[str, int] = field(default_factory=dict)


def run_history(
    policy: str | Mapping[str, Any],
    pushes: Sequence[Image],
    *,
    evaluate_every: timedelta = timedelta(hours=24),
    until: datetime | None = None,
    immutable_tags: bool = True,
) -> History:
    """Replay pushes in time order with a lifecycle run every ``evaluate_every`` from the first
    push until ``until`` (default: one interval after the last push; later pushes are not
    applied). A run at time t sees every push at or before t. With mutable tags a pushed tag
    moves off the image that held it; with immutable tags that push raises."""
    rules = validate_policy(policy)
    pushes = sorted(pushes, key=lambda i: i.pushed_at)
    if not pushes:
        return History(())
    end = until if until is not None else pushes[-1].pushed_at + evaluate_every
    repository: dict[str, Image] = {}
    expired_at: dict[str, datetime] = {}
    expired_by: dict[str, int] = {}
    pending = iter(pushes)
    next_push = next(pending, None)
    run_at = pushes[0].pushed_at + evaluate_every
    while run_at <= end:
        while next_push is not None and next_push.pushed_at <= run_at:
            _push(repository, next_push, immutable_tags)
            next_push = next(pending, None)
        for digest, priority in _evaluate(rules, list(repository.values()), run_at).expired.items():
            del repository[digest]
            expired_at[digest], expired_by[digest] = run_at, priority
        run_at += evaluate_every
    while next_push is not None and next_push.pushed_at <= end:
        _push(repository, next_push, immutable_tags)
        next_push = next(pending, None)
    return History(tuple(sorted(repository.values(), key=lambda i: i.pushed_at)), expired_at, expired_by)


def _push(repository: dict[str, Image], image: Image, immutable_tags: bool) -> None:
    if image.digest in repository:
        raise ValueError(f"{image.digest} pushed twice: re-pushing a digest is not modelled")
    for digest, held in list(repository.items()):
        taken = held.tags & image.tags
        if taken and immutable_tags:
            raise ImageTagAlreadyExistsError(f"{sorted(taken)} already on {digest}: an immutable repository refuses the push")
        if taken:
            repository[digest] = Image(digest, held.tags - taken, held.pushed_at)
    repository[image.digest] = image


# --- the policy text ----------------------------------------------------------------------


def validate_policy(policy: str | Mapping[str, Any]) -> tuple[Rule, ...]:
    """The rules in priority order, or :class:`InvalidLifecyclePolicyError` listing every problem the
    documentation says ECR refuses."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise InvalidLifecyclePolicyError(["a lifecycle policy contains one or more rules"])
    problems: list[str] = []
    rules = [rule for raw in raw_rules if (rule := _rule(raw, problems)) is not None]
    priorities = [rule.priority for rule in rules]
    if len(set(priorities)) != len(priorities):
        problems.append(f"rulePriority values must be unique, got {sorted(priorities)}")
    if any(rule.tag_status == "any" and rule.priority != max(priorities, default=0) for rule in rules):
        problems.append("a rule with tagStatus any must have the highest rulePriority")
    if sum(rule.tag_status == "untagged" for rule in rules) > 1:
        problems.append("only one rule is allowed to select untagged images")
    prefix_sets = [frozenset(rule.prefixes) for rule in rules if rule.prefixes and not rule.patterns]
    if len(set(prefix_sets)) != len(prefix_sets):
        problems.append("the set of rules must contain a unique set of tag prefixes")
    if problems:
        raise InvalidLifecyclePolicyError(problems)
    return tuple(sorted(rules, key=lambda rule: rule.priority))


def _rule(raw: Mapping[str, Any], problems: list[str]) -> Rule | None:
    priority: Any = raw.get("rulePriority")
    where = f"rule {priority}"
    selection: Mapping[str, Any] = raw.get("selection", {})
    action: Mapping[str, Any] = raw.get("action", {})
    if "storageClass" in selection or action.get("type") == "transition":
        raise UnsupportedByModelError(f"{where}: archive storage and transition actions are not modelled")
    count_type: Any = selection.get("countType")
    count_unit: Any = selection.get("countUnit")
    count_number: Any = selection.get("countNumber")
    if count_type in ("sinceImagePulled", "sinceImageTransitioned"):
        raise UnsupportedByModelError(f"{where}: countType {count_type} is not modelled")
    before = len(problems)
    if not isinstance(priority, int) or isinstance(priority, bool):
        problems.append(f"{where}: rulePriority must be an integer")
    if action.get("type") != "expire":
        problems.append(f"{where}: action type must be expire, got {action.get('type')!r}")
    status: Any = selection.get("tagStatus")
    prefixes, patterns = selection.get("tagPrefixList", []), selection.get("tagPatternList", [])
    if status not in ("tagged", "untagged", "any"):
        problems.append(f"{where}: tagStatus must be tagged, untagged or any, got {status!r}")
    if status == "tagged" and not prefixes and not patterns:
        problems.append(f"{where}: tagStatus tagged needs a tagPrefixList or a tagPatternList")
    if status == "untagged" and ("tagPrefixList" in selection or "tagPatternList" in selection):
        problems.append(f"{where}: tagStatus untagged must omit tagPrefixList and tagPatternList")
    problems.extend(f"{where}: {p!r} has more than four wildcards" for p in patterns if p.count("*") > 4)
    if count_type not in ("imageCountMoreThan", "sinceImagePushed"):
        problems.append(f"{where}: countType must be imageCountMoreThan or sinceImagePushed, got {count_type!r}")
    if count_type == "sinceImagePushed" and count_unit != "days":
        problems.append(f"{where}: sinceImagePushed needs countUnit days")
    if count_type == "imageCountMoreThan" and count_unit is not None:
        problems.append(f"{where}: countUnit is only for sinceImagePushed")
    if not isinstance(count_number, int) or isinstance(count_number, bool) or count_number < 1:
        problems.append(f"{where}: countNumber must be a positive integer, got {count_number!r}")
    if len(problems) > before:
        return None
    return Rule(
        priority=priority,
        tag_status=status,
        count_type=count_type,
        count_number=count_number,
        prefixes=tuple(prefixes),
        patterns=tuple(patterns),
        description=str(raw.get("description", "")),
    )
