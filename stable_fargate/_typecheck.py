"""Public constructors check their arguments' types at run time, against their annotations.

A platform team calls the constructors from Python without a type checker as often as with
one. A wrong type must fail at synth with a :class:`ConfigError` that names the service and
the field, not as ``AttributeError: 'int' object has no attribute 'is_unresolved'`` three
calls deep, and never be accepted by accident (a string where a list of strings is expected
would otherwise be split into characters; ``True`` is an ``int`` to ``isinstance``).

Why not a library: typeguard 4 cannot be installed beside jsii (jsii pins
``typeguard==2.13.3``); beartype checks one random item of a container (a 1,001-item list with
one wrong item passes every time, under every strategy), and neither typeguard nor beartype
can check jsii's interfaces (``ec2.IVpc`` is a ``typing.Protocol`` that is not runtime
checkable); pydantic's ``validate_call`` cannot either. This checker walks containers fully
and asks jsii which interfaces an object implements.

Rules beyond ``isinstance``:

* ``int``: a whole number, not ``bool``; a CDK number token (a float that is an unresolved
  token) passes where the CDK allows one. ``float``: ``int`` or ``float``, not ``bool``.
* ``str`` passes tokens (they are strings). ``Sequence[X]``: a list or tuple, never a str.
* A jsii interface (``ec2.IVpc``): an object whose class declares it (or an interface
  extending it) through ``@jsii.implements``, or jsii's proxy for it.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar, get_args, get_origin

from stable_fargate.errors import ConfigError

P = ParamSpec("P")
R = TypeVar("R")

_SEQUENCES = (Sequence, typing.Sequence, list, tuple)
_MAPPINGS = (Mapping, typing.Mapping, dict)


def _is_token(value: object) -> bool:
    from aws_cdk import Token  # constructors only: the read side never loads the CDK

    return bool(Token.is_unresolved(value))


def _is_jsii_interface(hint: object) -> bool:
    return isinstance(hint, type) and getattr(hint, "_is_protocol", False) and hasattr(hint, "__jsii_type__")


def _implements(value: object, interface: type) -> bool:
    # An object the CDK made on the JavaScript side for several interfaces (an imported key:
    # kms.Key.from_key_arn) arrives as jsii's InterfaceDynamicProxy over one proxy per interface.
    delegates = vars(value).get("_delegates") if hasattr(value, "__dict__") else None
    if type(value).__name__ == "InterfaceDynamicProxy" and isinstance(delegates, list):
        return any(_implements(delegate, interface) for delegate in delegates)
    proxy = getattr(interface, "__jsii_proxy_class__", None)
    if proxy is not None and isinstance(value, proxy()):
        return True
    for klass in type(value).__mro__:
        for declared in getattr(klass, "__jsii_ifaces__", ()):
            if interface in getattr(declared, "__mro__", ()):
                return True
    return False


def conforms(value: object, hint: Any) -> bool:
    """Whether ``value`` is of type ``hint`` under the rules above."""
    if hint is Any or hint is object:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, option) for option in get_args(hint))
    if origin is typing.Literal:
        return any(value == option and type(value) is type(option) for option in get_args(hint))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and _is_token(value))
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in _SEQUENCES:
        if not isinstance(value, (list, tuple)):
            return False
        args = get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(conforms(v, a) for v, a in zip(value, args, strict=True))
        item = args[0] if args else Any
        return all(conforms(v, item) for v in value)
    if origin in _MAPPINGS:
        if not isinstance(value, Mapping):
            return False
        key_hint, value_hint = get_args(hint) or (Any, Any)
        return all(conforms(k, key_hint) and conforms(v, value_hint) for k, v in value.items())
    if _is_jsii_interface(hint):
        return _implements(value, hint)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a hint this checker does not know: let the constructor's own checks decide


def describe(hint: Any) -> str:
    """``hint`` in words, for a message."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        text = " or ".join(describe(o) for o in options)
        return f"{text} (or None)" if len(options) < len(get_args(hint)) else text
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(o) for o in get_args(hint))
    if origin in _SEQUENCES:
        args = get_args(hint)
        item = describe(args[0]).removeprefix("a ").removeprefix("an ") if args else "value"
        return f"a list of {item}s" if item in ("string", "whole number", "number", "value") else f"a list of {item} values"
    if origin in _MAPPINGS:
        key, value = get_args(hint) or (Any, Any)
        return f"a mapping of {describe(key)} to {describe(value)}"
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
    if hint in names:
        return names[hint]
    if isinstance(hint, type):
        module = hint.__module__
        name = f"{module.removeprefix('aws_cdk.aws_')}.{hint.__name__}" if module.startswith("aws_cdk.aws_") else hint.__name__
        return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
    return str(hint)


def checked_inputs(init: Callable[P, R]) -> Callable[P, R]:
    """Decorate a public constructor ``(self, scope, construct_id, *, ...)``: every keyword
    argument is checked against its annotation first; a mismatch is a ConfigError naming the
    service (``service_name`` when it is a string, else the construct id) and the field."""
    hints = typing.get_type_hints(init)
    parameters = inspect.signature(init).parameters

    @functools.wraps(init)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        construct_id = args[2] if len(args) > 2 else kwargs.get("construct_id")
        name = kwargs.get("service_name")
        subject = name if isinstance(name, str) and name else str(construct_id)
        if len(args) > 2 and not isinstance(args[2], str):
            raise ConfigError(subject, "construct_id", args[2], "Give the construct id as a string.")
        for field, value in kwargs.items():
            if field in parameters and field in hints and not conforms(value, hints[field]):
                raise ConfigError(subject, field, value, f"Give {describe(hints[field])}.")
        return init(*args, **kwargs)

    return wrapper
