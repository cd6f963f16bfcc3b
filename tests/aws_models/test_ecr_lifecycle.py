"""The ECR lifecycle evaluator: AWS's worked examples (lifecycle_policy_examples.html), each
documented rule, what PutLifecyclePolicy refuses, push histories, and properties of the
evaluator itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, Unpack

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.aws_models.ecr_lifecycle import (
    Image,
    ImageTagAlreadyExistsError,
    InvalidLifecyclePolicyError,
    UnsupportedByModelError,
    evaluate,
    run_history,
    validate_policy,
)

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


class Lists(TypedDict, total=False):
    prefixes: list[str]
    patterns: list[str]


def rule(priority: int, tag_status: str = "tagged", *, count: int = 1, days: int | None = None, **lists: Unpack[Lists]) -> dict[str, Any]:
    selection: dict[str, Any] = {"tagStatus": tag_status}
    selection |= {"tagPrefixList": lists["prefixes"]} if "prefixes" in lists else {}
    selection |= {"tagPatternList": lists["patterns"]} if "patterns" in lists else {}
    if days is None:
        selection |= {"countType": "imageCountMoreThan", "countNumber": count}
    else:
        selection |= {"countType": "sinceImagePushed", "countUnit": "days", "countNumber": days}
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


def policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"rules": list(rules)}


def expired(doc: dict[str, Any] | str, *images: Image, now: datetime = NOW) -> set[str]:
    return set(evaluate(doc, images, now).expired)


# --- AWS's worked examples ------------------------------------------------------------------


def test_docs_filtering_on_image_age() -> None:
    untagged_14 = policy(rule(1, "untagged", days=14))
    assert expired(
        untagged_14, Image.pushed("old", days_ago(15)), Image.pushed("new", days_ago(3)), Image.pushed("t", days_ago(30), "v1")
    ) == {"old"}
    prod_14 = policy(rule(1, patterns=["prod*"], days=14))  # the current page's version of the example
    assert expired(
        prod_14,
        Image.pushed("p", days_ago(15), "prod"),
        Image.pushed("p1", days_ago(15), "prod1"),
        Image.pushed("s", days_ago(15), "stage"),
    ) == {"p", "p1"}


def test_docs_filtering_on_image_count() -> None:
    keep_one_untagged = policy(rule(1, "untagged", count=1))
    images = [Image.pushed(f"u{n}", days_ago(n)) for n in range(4)]
    assert expired(keep_one_untagged, *images) == {"u1", "u2", "u3"}


MULTI = (
    Image.pushed("A", days_ago(10), "beta-1", "prod-1"),
    Image.pushed("B", days_ago(9), "beta-2", "prod-2"),
    Image.pushed("C", days_ago(8), "beta-3"),
)


@pytest.mark.parametrize("by", ["prefixes", "patterns"])
def test_docs_multiple_rules_example_a(by: str) -> None:
    # Rule 1 (prod, keep 1) marks A. Rule 2 (beta, keep 1) counts A, B and C and marks A and B,
    # but A is Rule 1's and B "would violate Rule 1", so it is skipped. Result: A expired.
    prod: Lists = {"prefixes": ["prod"]} if by == "prefixes" else {"patterns": ["prod*"]}
    beta: Lists = {"prefixes": ["beta"]} if by == "prefixes" else {"patterns": ["beta*"]}
    doc = policy(rule(1, **prod), rule(2, **beta))
    result = evaluate(doc, MULTI, NOW)
    assert dict(result.expired) == {"A": 1}
    assert dict(result.owner) == {"A": 1, "B": 1, "C": 2}


def test_docs_multiple_rules_example_b() -> None:
    # Same repository, priorities swapped: Rule 1 (beta) sees all three and marks A and B.
    doc = policy(rule(1, prefixes=["beta"]), rule(2, prefixes=["prod"]))
    assert dict(evaluate(doc, MULTI, NOW).expired) == {"A": 1, "B": 1}


def test_docs_multiple_tags_in_one_rule_example_a() -> None:
    # "images must match all listed tag prefixes": alpha AND beta selects C and F; older than 5 days: C.
    images = (
        Image.pushed("A", days_ago(12), "alpha-1"),
        Image.pushed("B", days_ago(11), "beta-1"),
        Image.pushed("C", days_ago(10), "alpha-2", "beta-2"),
        Image.pushed("D", days_ago(4), "alpha-3"),
        Image.pushed("E", days_ago(3), "beta-3"),
        Image.pushed("F", days_ago(2), "alpha-4", "beta-4"),
    )
    assert expired(policy(rule(1, prefixes=["alpha", "beta"], days=5)), *images) == {"C"}


def test_docs_multiple_tags_in_one_rule_example_b() -> None:
    # "tags are not exclusive": an extra gamma tag does not stop a match. Keep 1 of 3: A and B expire.
    images = (
        Image.pushed("A", days_ago(10), "alpha-1", "beta-1", "gamma-1"),
        Image.pushed("B", days_ago(9), "alpha-2", "beta-2"),
        Image.pushed("C", days_ago(8), "alpha-3", "beta-3", "gamma-2"),
    )
    assert expired(policy(rule(1, prefixes=["alpha", "beta"], count=1)), *images) == {"A", "B"}


# --- selection --------------------------------------------------------------------------------

RELEASE = Image.pushed("release", days_ago(30), "v1.8.0")
CANDIDATE = Image.pushed("candidate", days_ago(20), "v1.9.0-rc.1")


@pytest.mark.parametrize(
    ("lists", "selects_release", "selects_candidate"),
    [
        ({"prefixes": ["v"]}, True, True),  # a prefix counts candidates too
        ({"patterns": ["v*"]}, True, True),
        ({"patterns": ["v*-*"]}, False, True),
        ({"patterns": ["v1.8.0"]}, True, False),  # no wildcard: the whole tag
        ({"patterns": ["v1.8"]}, False, False),
        ({"prefixes": ["v1.8"]}, True, False),
        ({"patterns": ["*"]}, True, True),
        ({"prefixes": ["V"]}, False, False),  # case-sensitive (not documented)
        ({"patterns": ["v*", "*-rc*"]}, False, True),  # several entries: all must match
        ({"patterns": ["v*-*"], "prefixes": ["x"]}, False, True),  # prefixes unused beside patterns
    ],
)
def test_tag_selection(lists: Lists, selects_release: bool, selects_candidate: bool) -> None:
    rules = validate_policy(policy(rule(1, **lists)))
    assert (rules[0].selects(RELEASE), rules[0].selects(CANDIDATE)) == (selects_release, selects_candidate)


def test_one_tag_may_satisfy_several_entries_and_any_untagged() -> None:
    (both,) = validate_policy(policy(rule(1, prefixes=["v", "v1"])))
    assert both.selects(RELEASE)
    any_rule, untagged = validate_policy(policy(rule(2, "any"), rule(1, "untagged")))[::-1]
    bare = Image.pushed("bare", NOW)
    assert any_rule.selects(RELEASE) and any_rule.selects(bare)
    assert untagged.selects(bare) and not untagged.selects(RELEASE)
    assert not validate_policy(policy(rule(1, patterns=["*"])))[0].selects(bare)


def test_age_is_strictly_older_than_n_days() -> None:
    doc = policy(rule(1, "untagged", days=7))
    assert expired(doc, Image.pushed("exactly", days_ago(7)), Image.pushed("older", days_ago(7) - timedelta(seconds=1))) == {"older"}


def test_newest_first_ties_broken_by_digest() -> None:
    same_time = [Image.pushed(d, NOW, f"v-{d}") for d in ("b", "a", "c")]
    assert expired(policy(rule(1, prefixes=["v"], count=2)), *same_time) == {"a"}


def test_a_lower_count_rule_counts_what_a_higher_rule_selects() -> None:
    # Issue 8, item 2: candidates ("v*-*", keep 20) are counted by the release rule ("v*", keep 30),
    # so 30 candidates newer than a release push the release out although rule 1 owns them.
    candidates = [Image.pushed(f"rc{n}", days_ago(n / 2), f"v2.0.0-rc.{n}") for n in range(1, 31)]
    doc = policy(rule(1, patterns=["v*-*"], count=20), rule(2, patterns=["v*"], count=30))
    result = evaluate(doc, [RELEASE, *candidates], NOW)
    assert result.expired["release"] == 2
    assert {d for d, p in result.expired.items() if p == 1} == {f"rc{n}" for n in range(21, 31)}
    # A higher-priority rule that selects exactly the release protects it.
    protected = policy(rule(1, patterns=["v1.8.0"], count=1), rule(2, patterns=["v*-*"], count=20), rule(3, patterns=["v*"], count=30))
    assert "release" not in evaluate(protected, [RELEASE, *candidates], NOW).expired


# --- what PutLifecyclePolicy refuses --------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"rules": []}, "one or more rules"),
        (policy(rule(1, prefixes=["a"]), rule(1, prefixes=["b"])), "unique"),
        (policy(rule(2, "any"), rule(3, prefixes=["a"])), "any must have the highest"),
        (policy(rule(1, "untagged"), rule(2, "untagged", days=3)), "only one rule"),
        (policy(rule(1, prefixes=["a", "b"]), rule(2, prefixes=["b", "a"])), "unique set of tag prefixes"),
        (policy(rule(1)), "needs a tagPrefixList or a tagPatternList"),
        (policy(rule(1, "untagged", prefixes=["a"])), "must omit"),
        (policy(rule(1, patterns=["*a*b*c*d*e"])), "more than four wildcards"),
        (policy(rule(1, prefixes=["a"], count=0)), "positive integer"),
        (policy(rule(1, prefixes=["a"]) | {"action": {"type": "delete"}}), "expire"),
        (
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {"tagStatus": "any", "countType": "sinceImagePushed", "countNumber": 3},
                        "action": {"type": "expire"},
                    }
                ]
            },
            "countUnit days",
        ),
        (
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 3},
                        "action": {"type": "expire"},
                    }
                ]
            },
            "only for sinceImagePushed",
        ),
        (
            {"rules": [{"rulePriority": "1", "selection": {"tagStatus": "all", "countType": "x"}, "action": {"type": "expire"}}]},
            "tagStatus must be",
        ),
    ],
)
def test_validate_refuses_what_the_docs_say_ecr_refuses(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidLifecyclePolicyError, match=problem):
        validate_policy(doc)


def test_validate_accepts_documented_limits_and_json_text() -> None:
    # The docs' own limit example: ["*test*1*2*3", "test*1*2*3*"] is valid (four wildcards each).
    rules = validate_policy(json.dumps(policy(rule(5, patterns=["*test*1*2*3", "test*1*2*3*"]), rule(9, "any"))))
    assert [r.priority for r in rules] == [5, 9]
    with pytest.raises(UnsupportedByModelError):
        validate_policy(policy(rule(1, prefixes=["a"]) | {"action": {"type": "transition", "targetStorageClass": "archive"}}))


# --- push histories ---------------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_history_expires_within_a_run_after_the_criterion_is_met() -> None:
    pushes = [Image.pushed("untagged", T0), Image.pushed("tagged", T0 + timedelta(hours=1), "v1")]
    history = run_history(policy(rule(1, "untagged", days=7)), pushes, until=T0 + timedelta(days=10))
    assert history.expired_at == {"untagged": T0 + timedelta(days=8)}  # older than 7 days at the day-8 run
    assert history.expired_by == {"untagged": 1}
    assert [i.digest for i in history.survivors] == ["tagged"]


def test_history_with_mutable_tags_moves_the_tag_and_leaves_the_old_image_untagged() -> None:
    pushes = [Image.pushed("old", T0, "main"), Image.pushed("new", T0 + timedelta(days=1), "main")]
    history = run_history(
        policy(rule(1, "untagged", count=1)), [*pushes, Image.pushed("newer", T0 + timedelta(days=2), "main")], immutable_tags=False
    )
    assert [(i.digest, set(i.tags)) for i in history.survivors] == [("new", set()), ("newer", {"main"})]
    assert set(history.expired_at) == {"old"}
    with pytest.raises(ImageTagAlreadyExistsError):
        run_history(policy(rule(1, "untagged", count=1)), pushes)


def test_history_with_no_pushes_and_duplicate_digests() -> None:
    assert run_history(policy(rule(1, "untagged", count=1)), []).survivors == ()
    with pytest.raises(ValueError, match="pushed twice"):
        run_history(policy(rule(1, "untagged", count=1)), [Image.pushed("a", T0, "x"), Image.pushed("a", T0, "y")])


# --- properties of the evaluator ------------------------------------------------------------

TAGS = ["v1.0.0", "v1.1.0", "v2.0.0-rc.1", "v2.0.0-rc.2", "prod", "prod-2", "beta-1", "main"]


@st.composite
def repositories(draw: st.DrawFn) -> list[Image]:
    """Images with unique digests and tags (an immutable repository), pushed within 60 days."""
    count = draw(st.integers(0, 25))
    free = list(TAGS) + [f"build-{n}" for n in range(40)]
    images = []
    for n in range(count):
        tags = draw(st.sets(st.sampled_from(free), max_size=2))
        free = [t for t in free if t not in tags]
        images.append(Image(f"sha256:{n:04d}", frozenset(tags), days_ago(draw(st.floats(0, 60, allow_nan=False)))))
    return images


SELECTION_CHOICES: list[Lists] = [
    {"prefixes": ["v"]},
    {"patterns": ["v*-*"]},
    {"prefixes": ["prod"]},
    {"patterns": ["*"]},
    {"patterns": ["v*", "*rc*"]},
    {"prefixes": ["build"]},
]
SELECTIONS = st.sampled_from(SELECTION_CHOICES)


@given(repositories(), SELECTIONS, st.integers(1, 10))
def test_a_single_count_rule_keeps_exactly_the_newest_min_n_count(images: list[Image], lists: Lists, count: int) -> None:
    doc = policy(rule(1, count=count, **lists))
    (only,) = validate_policy(doc)
    selected = [i for i in images if only.selects(i)]
    result = evaluate(doc, images, NOW)
    survivors = [i for i in selected if i.digest not in result.expired]
    assert len(survivors) == min(len(selected), count)
    assert all(s.pushed_at >= e.pushed_at for s in survivors for e in selected if e.digest in result.expired)
    assert set(result.expired) <= {i.digest for i in selected}


@given(repositories(), SELECTIONS, st.integers(1, 60))
def test_a_single_age_rule_expires_exactly_the_selected_older_ones(images: list[Image], lists: Lists, days: int) -> None:
    doc = policy(rule(1, days=days, **lists))
    (only,) = validate_policy(doc)
    assert set(evaluate(doc, images, NOW).expired) == {
        i.digest for i in images if only.selects(i) and NOW - i.pushed_at > timedelta(days=days)
    }


POLICIES = st.lists(st.tuples(SELECTIONS, st.integers(1, 8), st.booleans()), min_size=1, max_size=4).map(
    lambda specs: policy(
        *[rule(n + 1, count=c, **sel) if not by_age else rule(n + 1, days=c * 5, **sel) for n, (sel, c, by_age) in enumerate(specs)],
        rule(len(specs) + 1, "untagged", count=2),
    )
)


@given(repositories(), POLICIES.filter(lambda p: _valid(p)), st.randoms(use_true_random=False))
def test_every_image_is_expired_only_by_the_first_rule_that_selects_it(images: list[Image], doc: dict[str, Any], random: Any) -> None:
    result = evaluate(doc, images, NOW)
    rules = validate_policy(doc)
    for image in images:
        first = next((r.priority for r in rules if r.selects(image)), None)
        assert result.owner.get(image.digest) == first
        if image.digest in result.expired:
            assert result.expired[image.digest] == first
    shuffled = list(images)
    random.shuffle(shuffled)
    assert evaluate(doc, shuffled, NOW) == result  # the input order does not matter
    survivors = [i for i in images if i.digest not in result.expired]
    assert not evaluate(doc, survivors, NOW).expired  # a second run at the same instant expires nothing


@given(repositories(), st.integers(1, 5))
def test_a_higher_rule_that_keeps_everything_protects_its_images(images: list[Image], count: int) -> None:
    doc = policy(rule(1, patterns=["v*"], count=1000), rule(2, patterns=["*"], count=count), rule(3, "any", count=count))
    assert not any(i.digest in evaluate(doc, images, NOW).expired for i in images if any(t.startswith("v") for t in i.tags))


@given(st.lists(st.floats(0, 20, allow_nan=False), min_size=1, max_size=15), st.integers(1, 5))
def test_history_with_one_count_rule_keeps_the_newest_count(offsets: list[float], count: int) -> None:
    pushes = [Image.pushed(f"sha256:{n:03d}", T0 + timedelta(days=o), f"v{n}") for n, o in enumerate(offsets)]
    history = run_history(policy(rule(1, prefixes=["v"], count=count)), pushes)
    newest = sorted(pushes, key=lambda i: (i.pushed_at, i.digest), reverse=True)[:count]
    assert {i.digest for i in history.survivors} == {i.digest for i in newest}
    assert all(history.expired_at[d] >= next(i.pushed_at for i in pushes if i.digest == d) for d in history.expired_at)


def _valid(doc: dict[str, Any]) -> bool:
    try:
        validate_policy(doc)
    except InvalidLifecyclePolicyError:
        return False
    return True
