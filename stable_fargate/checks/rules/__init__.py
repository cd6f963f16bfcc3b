"""One rule per module. Each module declares ``RESOURCE_TYPES`` (the node types it checks)
and ``check(resource) -> NagRuleCompliance``; its docstring says what it reads, the defaults
it assumes for absent properties, and what it answers when a value is unknowable at synth.
The pack (:mod:`stable_fargate.checks.pack`) holds each rule's id, level, info and
explanation."""
