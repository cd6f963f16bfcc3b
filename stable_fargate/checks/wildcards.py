"""ECR tag wildcards (``*`` matches any run of characters, nothing else is special): can two
patterns match one tag, and does every tag one pattern matches also match another?

Both questions are answered exactly, on the small automata the patterns describe: a pattern
of n characters has n + 1 states, and the alphabet that matters is the patterns' literal
characters plus one stand-in for every other character.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

WILDCARD = "*"
_OTHER = "\x00"
"""Any character that appears in neither pattern: they all behave alike."""


def _closure(pattern: str, states: Iterable[int]) -> frozenset[int]:
    """States reachable by letting each ``*`` match nothing."""
    found = set(states)
    stack = list(found)
    while stack:
        state = stack.pop()
        if state < len(pattern) and pattern[state] == WILDCARD and state + 1 not in found:
            found.add(state + 1)
            stack.append(state + 1)
    return frozenset(found)


def _step(pattern: str, states: frozenset[int], char: str) -> frozenset[int]:
    moved: set[int] = set()
    for state in states:
        if state >= len(pattern):
            continue
        if pattern[state] == WILDCARD:
            moved.add(state)  # ``*`` consumes the character and may consume more
        elif pattern[state] == char:
            moved.add(state + 1)
    return _closure(pattern, moved)


def _accepts(pattern: str, states: frozenset[int]) -> bool:
    return len(pattern) in states


def _alphabet(*patterns: str) -> tuple[str, ...]:
    return (*sorted({c for p in patterns for c in p if c != WILDCARD}), _OTHER)


def _explore(first: str, second: str) -> Iterable[tuple[frozenset[int], frozenset[int]]]:
    """Every pair of state sets the two patterns reach on a common input (breadth first)."""
    start = (_closure(first, {0}), _closure(second, {0}))
    seen = {start}
    queue = deque([start])
    alphabet = _alphabet(first, second)
    while queue:
        pair = queue.popleft()
        yield pair
        for char in alphabet:
            following = (_step(first, pair[0], char), _step(second, pair[1], char))
            if following[0] and following not in seen:
                seen.add(following)
                queue.append(following)


def intersects(first: str, second: str) -> bool:
    """Whether some tag matches both patterns."""
    return any(_accepts(first, a) and _accepts(second, b) for a, b in _explore(first, second))


def includes(outer: str, inner: str) -> bool:
    """Whether every tag that ``inner`` matches also matches ``outer``."""
    return not any(_accepts(inner, a) and not _accepts(outer, b) for a, b in _explore(inner, outer))


def matches(pattern: str, tag: str) -> bool:
    states = _closure(pattern, {0})
    for char in tag:
        states = _step(pattern, states, char)
        if not states:
            return False
    return _accepts(pattern, states)
