"""The one exception the library raises for bad input."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad configuration, refused at synth.

    The message always names the subject (service or environment), the field, the value
    given and what to change, so that a failed ``cdk synth`` explains itself.
    """

    def __init__(self, subject: str, field: str, value: object, fix: str) -> None:
        self.subject = subject
        self.field = field
        self.value = value
        self.fix = fix
        super().__init__(f"{subject}: {field}={value!r} is refused. {fix}")
