"""The one exception the library raises for bad input."""

from __future__ import annotations

import re
from collections.abc import Mapping

_STRING_TOKEN = re.compile(r"[$#]\{Token\[[^\]]*\]\}")
"""How the CDK encodes a token inside a string (``${Token[TOKEN.12]}``) or a list (``#{...}``)."""

NUMBER_TOKEN_MAGNITUDE = 1e289
"""The CDK encodes a number token as a float around -1.888e+289: shown raw it is noise."""

MAX_SHOWN_CHARACTERS = 200
"""A value longer than this is cut in a message: the message must stay readable."""


def shown(value: object) -> str:
    """``value`` as a message shows it: tokens as ``<token>``, long values cut."""
    if isinstance(value, float) and abs(value) >= NUMBER_TOKEN_MAGNITUDE:
        return "<token>"
    if isinstance(value, str):
        text = repr(_STRING_TOKEN.sub("<token>", value))
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(shown(v) for v in value) + "]"
    elif isinstance(value, Mapping):
        text = "{" + ", ".join(f"{shown(k)}: {shown(v)}" for k, v in value.items()) + "}"
    else:
        text = _STRING_TOKEN.sub("<token>", repr(value))
    return text if len(text) <= MAX_SHOWN_CHARACTERS else text[: MAX_SHOWN_CHARACTERS - 3] + "..."


class ConfigError(ValueError):
    """Bad configuration, refused at synth.

    The message always names the subject (service or environment), the field, the value
    given and what to change, so that a failed ``cdk synth`` explains itself. A token in the
    value is shown as ``<token>``.
    """

    def __init__(self, subject: str, field: str, value: object, fix: str) -> None:
        self.subject = subject
        self.field = field
        self.value = value
        self.fix = fix
        super().__init__(f"{subject}: {field}={shown(value)} is refused. {fix}")
