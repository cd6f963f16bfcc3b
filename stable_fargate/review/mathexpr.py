"""CloudWatch metric math, for the subset scaling templates use, compiled once per expression.

An expression is parsed into a small syntax tree, checked (which ids it reads, whether each
node is a time series or a scalar), and compiled to one Python function that computes the
expression's value at one timestamp from the values of its metrics there (``NaN`` = no
datapoint). The replay calls it once per datapoint, so it is compiled to straight-line
Python (generated from the checked tree, never from the input text) rather than
interpreted node by node.

Semantics, from https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
("Metric math syntax and functions", "Using IF expressions"):

* Arithmetic ``+ - * / ^`` and comparisons ``== != < <= > >=`` and ``AND``/``&&``,
  ``OR``/``||`` between two time series: where only one of them has a datapoint, the missing
  one counts as 0; where neither has one, there is none. A division by zero drops the
  datapoint. Comparisons and logical operators give 1 or 0. A time series with a scalar
  keeps the series' datapoints only.
* ``IF(condition, a, b)``: no datapoint where the condition has none; where it is true,
  ``a`` (0 if ``a`` is a series without a datapoint there); where false, ``b`` (dropped if
  ``b`` has none or is omitted). A condition is true when it is not 0.
* ``FILL(m, value)`` fills a missing datapoint with ``value``; ``FILL(m, REPEAT)`` with the
  most recent earlier datapoint. Whether FILL produces anything for a series that has no
  datapoint at all in the evaluated range is not established by AWS's text; the reading is a
  parameter of the evaluation (``fill_empty``), off by default (nothing is produced).
  ``FILL(m, LINEAR)`` fills only gaps between two datapoints, which the newest datapoint
  never is: it is evaluated as no fill (a stated limitation).
* ``CEIL``, ``FLOOR``, ``ABS``: per datapoint. ``DIFF(m)``: the value minus the preceding
  datapoint's; ``RATE(m)``: that difference per second.
* ``MIN``/``MAX``/``SUM``/``AVG`` of an array ``[a, b]``: per timestamp (``SUM``/``AVG``
  count a missing value as 0, as AWS states for AVG; ``MIN``/``MAX`` take the datapoints
  present). Of a single series: a scalar over the evaluated range (AWS advises against it in
  alarms; supported for completeness).

Anything else (``METRICS()``, ``SEARCH``, strings, ``ANOMALY_DETECTION_BAND``, ...) is refused
with a :class:`MathError` naming it, and the replay reports the policy as not replayable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Protocol

NAN = float("nan")

Kind = Literal["scalar", "series", "array"]


class MathError(ValueError):
    """An expression this evaluator cannot read; the message is one line."""


class History(Protocol):
    """Past datapoints of the expression's metrics, for the window functions."""

    def previous(self, index: int) -> tuple[float, float]:
        """The most recent earlier datapoint of metric ``index`` in the evaluated range and
        how many seconds before the current one it is; ``(nan, 0)`` if there is none."""

    def window(self, index: int) -> Sequence[float]:
        """Every datapoint of metric ``index`` in the evaluated range (``nan`` = none)."""


# --- Syntax ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Word:
    """A bare upper-case keyword argument: REPEAT or LINEAR."""

    name: str


@dataclass(frozen=True)
class Unary:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Array:
    items: tuple[Node, ...]


Node = Num | Ref | Word | Unary | Binary | Call | Array

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>(),\[\]]))"
)
_COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
WINDOW_FUNCTIONS = frozenset({"DIFF", "RATE"})
AGGREGATES = frozenset({"MIN", "MAX", "SUM", "AVG"})
POINTWISE = frozenset({"CEIL", "FLOOR", "ABS"})
SUPPORTED_FUNCTIONS = frozenset({"IF", "FILL"}) | WINDOW_FUNCTIONS | AGGREGATES | POINTWISE


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            raise MathError(f"unexpected {stripped[position:position + 10]!r} at character {position + 1} of {text!r}")
        tokens.append(match.group(match.lastgroup or "op"))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise MathError(f"expected {expected or 'more'} in {self.text!r}, found {token or 'the end'}")
        self.position += 1
        return token

    def parse(self) -> Node:
        node = self.logical_or()
        if self.peek() is not None:
            raise MathError(f"unexpected {self.peek()!r} in {self.text!r}")
        return node

    def logical_or(self) -> Node:
        node = self.logical_and()
        while self.peek() in ("OR", "||"):
            self.take()
            node = Binary("OR", node, self.logical_and())
        return node

    def logical_and(self) -> Node:
        node = self.comparison()
        while self.peek() in ("AND", "&&"):
            self.take()
            node = Binary("AND", node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.additive()
        while self.peek() in _COMPARISONS:
            op = self.take()
            node = Binary(op, node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.peek() in ("+", "-"):
            op = self.take()
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Unary(self.unary())
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.peek() == "^":
            self.take()
            return Binary("^", base, self.unary())
        return base

    def primary(self) -> Node:
        token = self.take()
        if token == "(":
            node = self.logical_or()
            self.take(")")
            return node
        if token == "[":
            items = [self.logical_or()]
            while self.peek() == ",":
                self.take()
                items.append(self.logical_or())
            self.take("]")
            return Array(tuple(items))
        if token[0].isdigit() or token[0] == ".":
            return Num(float(token))
        if token[0].isalpha() or token[0] == "_":
            if self.peek() == "(":
                self.take("(")
                args: list[Node] = []
                if self.peek() != ")":
                    args.append(self.logical_or())
                    while self.peek() == ",":
                        self.take()
                        args.append(self.logical_or())
                self.take(")")
                return Call(token, tuple(args))
            if token in ("REPEAT", "LINEAR"):
                return Word(token)
            if token[0].isupper():
                raise MathError(f"{token} is not supported in {self.text!r}")
            return Ref(token)
        raise MathError(f"unexpected {token!r} in {self.text!r}")


def parse(text: str) -> Node:
    """The syntax tree of ``text``; a :class:`MathError` if it is not metric math this
    evaluator reads."""
    if not text.strip():
        raise MathError("empty expression")
    return _Parser(text).parse()


# --- Checking and compiling ------------------------------------------------------------------


@dataclass(frozen=True)
class Compiled:
    """An expression ready to evaluate: ``function(values, history)`` gives its value at one
    timestamp from ``values[i]``, the datapoint of ``metrics[i]`` there (``nan`` = none)."""

    text: str
    metrics: tuple[str, ...]
    source: str
    function: Callable[[Sequence[float], History | None], float]
    uses_history: bool
    binder: Callable[..., Callable[[int, int, list[float], History | None], None]] = field(repr=False, compare=False)
    """``binder(*series)``: the same body reading ``series[i][e]`` for ``metrics[i]`` (see :meth:`bind`)."""

    def __call__(self, values: Sequence[float], history: History | None = None) -> float:
        return self.function(values, history)

    def bind(self, series: Sequence[Sequence[float]]) -> Callable[[int, int, list[float], History | None], None]:
        """``compute(start, stop, values, history)``: writes ``values[e]``, the expression at index
        ``e`` of ``series`` (one per metric, in :attr:`metrics` order), for ``e`` in
        ``range(start, stop)``; ``history.end`` is set to each ``e`` in turn when the expression
        reads its history. The generated body is the one :attr:`function` runs, so each value is
        the same to the bit; it saves a list and a call per datapoint."""
        if len(series) != len(self.metrics):
            raise ValueError(f"{self.text!r} reads {len(self.metrics)} series, {len(series)} given")
        return self.binder(*series)


def inline(text: str, expressions: Mapping[str, str]) -> Node:
    """Parse ``text`` with references to other expression ids replaced by their trees (an
    alarm's ``e2 = e1 * 2``); a cycle is refused."""
    return _inline(parse(text), expressions, ())


def _inline(node: Node, expressions: Mapping[str, str], seen: tuple[str, ...]) -> Node:
    if isinstance(node, Ref) and node.name in expressions:
        if node.name in seen:
            raise MathError(f"expression {node.name} refers to itself")
        return _inline(parse(expressions[node.name]), expressions, (*seen, node.name))
    if isinstance(node, Unary):
        return Unary(_inline(node.operand, expressions, seen))
    if isinstance(node, Binary):
        return Binary(node.op, _inline(node.left, expressions, seen), _inline(node.right, expressions, seen))
    if isinstance(node, Call):
        return Call(node.name, tuple(_inline(a, expressions, seen) for a in node.args))
    if isinstance(node, Array):
        return Array(tuple(_inline(a, expressions, seen) for a in node.items))
    return node


def compile_expression(text: str, expressions: Mapping[str, str] | None = None, *, fill_empty: bool = False) -> Compiled:
    """Compile ``text`` (other queries' expressions in ``expressions`` are inlined)."""
    return _compile(text, tuple(sorted((expressions or {}).items())), fill_empty)


@lru_cache(maxsize=256)
def _compile(text: str, expressions: tuple[tuple[str, str], ...], fill_empty: bool) -> Compiled:
    # Cached: every replay of a worker compiles the same few expressions (a Compiled is immutable).
    tree = inline(text, dict(expressions))
    generator = _Generator(fill_empty=fill_empty)
    result, kind = generator.node(tree)
    if kind != "series":
        raise MathError(f"{text!r} does not give a time series (an alarm needs one)")
    lines = (*generator.lines, f"return {result}")
    count = len(generator.metrics)
    body = "\n".join("    " + line for line in lines)
    unpack = "".join(f"    {_var(i)} = values[{i}]\n" for i in range(count))
    source = f"def expression(values, history):\n{unpack}{body}\n"
    # The same body in a loop over a range of indices, in a closure over the series (Compiled.bind).
    series = ", ".join(f"s{i}" for i in range(count))
    head = "            history.end = e\n" if generator.uses_history else ""
    bound_unpack = "".join(f"            {_var(i)} = s{i}[e]\n" for i in range(count))
    bound_body = "\n".join("            " + line for line in (*generator.lines, f"values[e] = {result}"))
    binder_source = (f"def binder({series}):\n    def compute(start, stop, values, history):\n        for e in range(start, stop):\n"
                     f"{head}{bound_unpack}{bound_body}\n    return compute\n")
    namespace: dict[str, object] = {"NAN": NAN, "math": math, "_pow": _pow, "_aggregate": _aggregate}
    exec(compile(source, f"<metric math {text!r}>", "exec"), namespace)  # generated from the checked tree, never the text
    exec(compile(binder_source, f"<metric math {text!r}>", "exec"), namespace)
    return Compiled(
        text=text, metrics=tuple(generator.metrics), source=source,
        function=namespace["expression"],  # type: ignore[arg-type]
        uses_history=generator.uses_history,
        binder=namespace["binder"],  # type: ignore[arg-type]
    )


def _var(index: int) -> str:
    return f"m{index}"


def _pow(base: float, exponent: float) -> float:
    try:
        return math.pow(base, exponent)
    except (ValueError, OverflowError):
        return NAN


def _aggregate(name: str, values: Sequence[float]) -> float:
    present = [v for v in values if v == v]
    if not present:
        return NAN
    if name == "MIN":
        return min(present)
    if name == "MAX":
        return max(present)
    if name == "SUM":
        return float(sum(present))
    return float(sum(present)) / len(present)


_PYTHON_OPS: Mapping[str, str] = {"+": "+", "-": "-", "*": "*", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class _Generator:
    """Turns a checked tree into straight-line Python: each node assigns one temporary."""

    def __init__(self, *, fill_empty: bool) -> None:
        self.fill_empty = fill_empty
        self.lines: list[str] = []
        self.metrics: list[str] = []
        self.uses_history = False
        self.count = 0

    def temp(self, expression: str) -> str:
        self.count += 1
        name = f"t{self.count}"
        self.lines.append(f"{name} = {expression}")
        return name

    def metric(self, name: str) -> int:
        if name not in self.metrics:
            self.metrics.append(name)
        return self.metrics.index(name)

    def node(self, node: Node) -> tuple[str, Kind]:
        if isinstance(node, Num):
            return repr(node.value), "scalar"
        if isinstance(node, Ref):
            return _var(self.metric(node.name)), "series"
        if isinstance(node, Word):
            raise MathError(f"{node.name} is only an argument of FILL")
        if isinstance(node, Array):
            raise MathError("an array [...] is only an argument of MIN, MAX, SUM or AVG")
        if isinstance(node, Unary):
            operand, kind = self.node(node.operand)
            return self.temp(f"-{operand}"), kind
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node)

    def binary(self, node: Binary) -> tuple[str, Kind]:
        left, left_kind = self.node(node.left)
        right, right_kind = self.node(node.right)
        both = left_kind == "series" and right_kind == "series"
        kind: Kind = "series" if "series" in (left_kind, right_kind) else "scalar"
        if both:
            # Union of timestamps: a missing datapoint beside a present one counts as 0.
            a = self.temp(f"0.0 if {left} != {left} else {left}")
            b = self.temp(f"0.0 if {right} != {right} else {right}")
            value = self.operation(node.op, a, b)
            return self.temp(f"NAN if ({left} != {left} and {right} != {right}) else {value}"), kind
        value = self.operation(node.op, left, right)
        if node.op in _COMPARISONS or node.op in ("AND", "OR"):
            # NaN compares False in Python: keep a missing datapoint missing.
            series = left if left_kind == "series" else right
            return self.temp(f"NAN if {series} != {series} else {value}") if kind == "series" else self.temp(value), kind
        return self.temp(value), kind

    def operation(self, op: str, a: str, b: str) -> str:
        if op in _COMPARISONS:
            return f"(1.0 if {a} {_PYTHON_OPS[op]} {b} else 0.0)"
        if op == "AND":
            return f"(1.0 if ({a} != 0 and {b} != 0) else 0.0)"
        if op == "OR":
            return f"(1.0 if ({a} != 0 or {b} != 0) else 0.0)"
        if op == "/":
            return f"(NAN if {b} == 0 else {a} / {b})"
        if op == "^":
            return f"_pow({a}, {b})"
        return f"({a} {_PYTHON_OPS[op]} {b})"

    def call(self, node: Call) -> tuple[str, Kind]:
        name, args = node.name, node.args
        if name not in SUPPORTED_FUNCTIONS:
            raise MathError(f"{name}() is not supported by the replay's metric math")
        if name == "IF":
            return self.if_(args)
        if name == "FILL":
            return self.fill(args)
        if name in POINTWISE:
            (value, kind) = self.one_argument(name, args)
            function = {"CEIL": "math.ceil", "FLOOR": "math.floor", "ABS": "abs"}[name]
            return self.temp(f"NAN if {value} != {value} else float({function}({value}))"), kind
        if name in WINDOW_FUNCTIONS:
            index = self.metric_argument(name, args)
            self.uses_history = True
            current = _var(index)
            previous = self.temp(f"history.previous({index})")
            difference = self.temp(f"NAN if ({current} != {current} or {previous}[0] != {previous}[0]) else {current} - {previous}[0]")
            if name == "DIFF":
                return difference, "series"
            return self.temp(f"NAN if {difference} != {difference} else {difference} / {previous}[1]"), "series"
        return self.aggregate(name, args)

    def one_argument(self, name: str, args: tuple[Node, ...]) -> tuple[str, Kind]:
        if len(args) != 1:
            raise MathError(f"{name}() takes one argument")
        return self.node(args[0])

    def metric_argument(self, name: str, args: tuple[Node, ...]) -> int:
        if len(args) != 1 or not isinstance(args[0], Ref):
            raise MathError(f"{name}() is replayed only on a metric id, e.g. {name}(m1)")
        return self.metric(args[0].name)

    def if_(self, args: tuple[Node, ...]) -> tuple[str, Kind]:
        if len(args) not in (2, 3):
            raise MathError("IF() takes a condition and one or two values")
        condition, condition_kind = self.node(args[0])
        # Each value is computed only where the condition chooses it (its temporaries are
        # read nowhere else: the generator shares no subexpression).
        outer = self.lines
        true_lines: list[str] = []
        false_lines: list[str] = []
        self.lines = true_lines
        true_value, true_kind = self.node(args[1])
        self.lines = false_lines
        false_value, false_kind = self.node(args[2]) if len(args) == 3 else ("NAN", "series")
        self.lines = outer
        if condition_kind == "scalar":
            kind: Kind = "series" if "series" in (true_kind, false_kind) else "scalar"
            return self.branches(f"{condition} != 0", (true_lines, true_value), (false_lines, false_value)), kind
        # A true condition with a missing series value gives 0; a false one with a missing
        # value drops the datapoint (the NaN stays).
        chosen = f"(0.0 if {true_value} != {true_value} else {true_value})" if true_kind == "series" else true_value
        return self.branches(f"{condition} != 0", (true_lines, chosen), (false_lines, false_value),
                             missing=f"{condition} != {condition}"), "series"

    def branches(self, test: str, chosen: tuple[list[str], str], other: tuple[list[str], str], missing: str | None = None) -> str:
        """``if test: <chosen's lines> else: <other's lines>`` assigning one temporary (NaN
        when ``missing``, tested first)."""
        self.count += 1
        name = f"t{self.count}"
        (chosen_lines, chosen_value), (other_lines, other_value) = chosen, other
        head = [f"if {missing}:", f"    {name} = NAN", f"elif {test}:"] if missing is not None else [f"if {test}:"]
        self.lines += [*head, *(f"    {line}" for line in chosen_lines), f"    {name} = {chosen_value}",
                       "else:", *(f"    {line}" for line in other_lines), f"    {name} = {other_value}"]
        return name

    def fill(self, args: tuple[Node, ...]) -> tuple[str, Kind]:
        if len(args) != 2:
            raise MathError("FILL() takes a series and a value, REPEAT or LINEAR")
        target, filler = args
        value, kind = self.node(target)
        if kind != "series":
            raise MathError("FILL() fills a time series")
        if isinstance(filler, Word):
            if filler.name == "LINEAR":
                return value, "series"  # the newest datapoint is never between two others
            index = self.fill_index(target)
            self.uses_history = True
            previous = self.temp(f"history.previous({index})[0]")
            return self.temp(f"{previous} if {value} != {value} else {value}"), "series"
        fill_value, fill_kind = self.node(filler)
        if fill_kind != "scalar" and fill_kind != "series":
            raise MathError("FILL() fills with a number or a series")
        if isinstance(target, Ref) and not self.fill_empty:
            # Reading: FILL produces nothing for a series with no datapoint in the range.
            index = self.metric(target.name)
            self.uses_history = True
            return self.temp(
                f"{value} if {value} == {value} else ({fill_value} if any(x == x for x in history.window({index})) else NAN)"
            ), "series"
        return self.temp(f"{fill_value} if {value} != {value} else {value}"), "series"

    def fill_index(self, target: Node) -> int:
        if not isinstance(target, Ref):
            raise MathError("FILL(..., REPEAT) is replayed only on a metric id")
        return self.metric(target.name)

    def aggregate(self, name: str, args: tuple[Node, ...]) -> tuple[str, Kind]:
        if len(args) == 1 and isinstance(args[0], Array):
            items = [self.node(item) for item in args[0].items]
            values = ", ".join(v for v, _ in items)
            if name in ("MIN", "MAX"):
                return self.temp(f"_aggregate({name!r}, ({values},))"), "series"
            filled = ", ".join(f"(0.0 if {v} != {v} else {v})" for v, _ in items)
            present = " or ".join(f"{v} == {v}" for v, _ in items)
            total = f"({filled},)"
            value = f"sum({total})" if name == "SUM" else f"sum({total}) / {len(items)}"
            return self.temp(f"({value}) if ({present}) else NAN"), "series"
        index = self.metric_argument(name, args)
        self.uses_history = True
        return self.temp(f"_aggregate({name!r}, history.window({index}))"), "scalar"


def evaluate(text: str, values: Mapping[str, float], history: History | None = None, *, fill_empty: bool = False) -> float:
    """Evaluate ``text`` once (for tests and one-off use; the replay keeps the compiled form)."""
    compiled = compile_expression(text, fill_empty=fill_empty)
    return compiled([values.get(name, NAN) for name in compiled.metrics], history)
