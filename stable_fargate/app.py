"""The entry point of an own app: a few lines in its ``app.py``.

::

    from stable_fargate.app import StableApp, run

    def build(app: StableApp) -> None:
        for environment in app.config.environments:
            stage = app.environment_stage(environment)
            ...  # stacks of the environment, with EnvironmentPlatform and the services

    run(build)

:class:`StableApp` is the app's ``cdk.App`` that:

* reads cdk.json's context also under a plain ``python app.py`` (the CDK CLI passes it; a bare
  ``App()`` outside the CLI would not), and loads the ``stable_fargate`` block into typed
  environments (``app.config``) once;
* pins every environment's AZs, so synth never asks AWS (offline, no credentials);
* attaches the nag packs as validation plugins (AwsSolutions, PCI DSS 3.2.1 and the library's
  own StableFargateChecks);
* and, in :meth:`StableApp.synth_checked`, synthesizes, then fails on any validation finding in
  any stage (the CDK CLI alone fails only on top-level stacks: :mod:`stable_fargate.gate`), on
  undeclared drift between the environments (:mod:`stable_fargate.drift_guard`), warns when
  a stack nears CloudFormation's 500-resource limit or cdk.json lacks a feature flag the
  library expects (:data:`defaults.EXPECTED_FEATURE_FLAGS`), and prints every database's
  connection budget (:class:`~stable_fargate.connection_budget.ConnectionBudget`).

:func:`run` builds and synthesizes, and prints a :class:`ConfigError` as one message without a
traceback (exit 1): bad input is the user's to fix, and the message says what.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Stage, Validations, cx_api

from stable_fargate import defaults
from stable_fargate.config.loader import AppConfig, load_app_config
from stable_fargate.config.models import EnvironmentSpec
from stable_fargate.connection_budget import ConnectionBudget, budget_table
from stable_fargate.drift_guard import DriftGuard
from stable_fargate.environments import pin_availability_zones
from stable_fargate.errors import ConfigError
from stable_fargate.gate import check_validation_report, validation_findings

CLOUDFORMATION_RESOURCE_LIMIT = 500
"""CloudFormation's limit on resources in one stack."""

RESOURCE_WARNING_SHARE = 0.8
"""Synth warns when a stack holds this share of the limit (400 resources): the next few
services would not fit, and splitting a stack later moves resources (README: splitting stacks).
At 63 resources per (web service, worker, job) triple, six triples stay below it, a seventh
warns, and an eighth passes 500, where the CDK refuses to synthesize the stack."""

RESOURCES_PER_SERVICE = {"StableWebService": 25, "QueueWorker": 21, "ScheduledJob": 16}
"""What each service adds to its stack with the defaults (a producer's first grant adds its
task role's policy: one more), measured from synthesized templates and pinned by
tests/test_resource_counts.py; the warning quotes them."""

TRAFFIC_SHIFTING_RELEASE_RESOURCES = 23
"""What a blue/green, canary or linear release adds to a web service (alternate target group,
test listener and rules, traffic role, release alarms, the smoke check's function and network),
measured and pinned like :data:`RESOURCES_PER_SERVICE`."""

DEFAULT_PACKS: tuple[str, ...] = ("AwsSolutions", "PCI.DSS.321", "StableFargate")
"""The nag packs an app gets unless it says otherwise."""


def _pack(name: str, scope: App) -> Any:
    if name == "AwsSolutions":
        from cdk_nag import AwsSolutionsChecks

        return AwsSolutionsChecks(scope)
    if name == "PCI.DSS.321":
        from cdk_nag import PCIDSS321Checks

        return PCIDSS321Checks(scope)
    if name == "StableFargate":
        from stable_fargate.checks import StableFargateChecks

        return StableFargateChecks(scope)
    raise ConfigError("app", "packs", name, f"Name nag packs among {', '.join(DEFAULT_PACKS)}.")


class StableApp(App):
    """An own app's ``cdk.App`` (see the module docstring).

    :param context: the app's context. Default: what the CDK CLI passes; outside the CLI,
        cdk.json's ``context`` from ``cdk_json`` (when that file exists).
    :param outdir: where to write the cloud assembly. Default: the CDK's (``cdk.out``).
    :param packs: the nag packs to attach. Default: :data:`DEFAULT_PACKS`.
    :param cdk_json: the cdk.json to read outside the CLI. Default: ``cdk.json`` in the
        working directory.

    Attributes: ``config`` (:class:`AppConfig`: tooling, environments, parameter sets).
    """

    def __init__(
        self,
        *,
        context: Mapping[str, Any] | None = None,
        outdir: str | None = None,
        packs: Sequence[str] = DEFAULT_PACKS,
        cdk_json: str | PathLike[str] = "cdk.json",
    ) -> None:
        super().__init__(context=dict(context) if context is not None else None, outdir=outdir)
        if self.node.try_get_context("stable_fargate") is None:
            self._context_from(Path(cdk_json))
        self.config: AppConfig = load_app_config({"stable_fargate": self.node.try_get_context("stable_fargate")})
        pin_availability_zones(self, self.config.environments)
        plugins = [_pack(name, self) for name in packs]
        if plugins:
            Validations.of(self).add_plugins(*plugins)

    def _context_from(self, path: Path) -> None:
        """Outside the CDK CLI, cdk.json's context (feature flags and the stable_fargate block)."""
        if not path.is_file():
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ConfigError("app", str(path), "<unreadable>", f"Fix cdk.json: it is not valid JSON ({error}).") from None
        context = data.get("context") if isinstance(data, Mapping) else None
        for key, value in (context or {}).items() if isinstance(context, Mapping) else ():
            self.node.set_context(str(key), value)

    def environment_stage(self, environment: EnvironmentSpec | str, **kwargs: Any) -> Stage:
        """A ``cdk.Stage`` for ``environment`` in its account and region, named so that
        ``cdk deploy 'Prod/*'`` deploys that environment alone."""
        spec = self.config.environment(environment) if isinstance(environment, str) else environment
        return Stage(self, spec.stage_name, env=Environment(account=spec.account, region=spec.region), **kwargs)

    def synth_checked(self) -> cx_api.CloudAssembly:
        """Synthesize, then fail on any validation finding (any stage) and on undeclared drift;
        warn on stacks near CloudFormation's resource limit."""
        outdir = self.outdir
        try:
            assembly = self.synth()
        except Exception:
            # In-process synth raises on findings; list them (any stage) instead of a traceback.
            if validation_findings(outdir):
                check_validation_report(outdir)
            raise
        check_validation_report(assembly.directory)
        DriftGuard(config=self.config, parameters=self.config.parameters).check(assembly)
        for line in [*self.feature_flag_warnings(), *resource_warnings(assembly)]:
            print(f"stable_fargate: {line}", file=sys.stderr)
        budgets = self.connection_budgets()
        if budgets:
            # On stderr, like the warnings: stdout may carry the CDK CLI's own output.
            print(f"stable_fargate: Postgres connection budgets (the worst moment: every service at max_tasks, "
                  f"mid-rollout)\n\n{budget_table(budgets)}\n", file=sys.stderr)
        return assembly

    def connection_budgets(self) -> list[ConnectionBudget]:
        """Every HardenedPostgres's connection budget, each service connected (one over its limit
        has already failed the build)."""
        from stable_fargate.database import HardenedPostgres  # the constructs only when asked

        return [c.budget for c in self.node.find_all() if isinstance(c, HardenedPostgres)]

    def feature_flag_warnings(self) -> list[str]:
        """One line per flag of :data:`defaults.EXPECTED_FEATURE_FLAGS` the app leaves out or sets otherwise."""
        lines = []
        for flag, (expected, reason) in defaults.EXPECTED_FEATURE_FLAGS.items():
            value = self.node.try_get_context(flag)
            if value != expected:
                found = f"leaves out {flag}" if value is None else f"sets {flag} to {json.dumps(value)}"
                lines.append(f"cdk.json {found}; this library expects {json.dumps(expected)}: {reason}.")
        return lines


def resource_warnings(assembly: cx_api.CloudAssembly) -> list[str]:
    """One line per stack holding at least :data:`RESOURCE_WARNING_SHARE` of the limit."""
    lines = []
    sizes = ", ".join(f"a {name} adds {count}" for name, count in RESOURCES_PER_SERVICE.items())
    sizes += f", a blue/green or canary release {TRAFFIC_SHIFTING_RELEASE_RESOURCES} more"
    for stack in assembly.stacks_recursively:
        # Read from the file the CDK wrote: ``stack.template`` carries the whole template across jsii.
        template = json.loads(Path(stack.template_full_path).read_text(encoding="utf-8"))
        count = len(template.get("Resources", {}))
        if count >= RESOURCE_WARNING_SHARE * CLOUDFORMATION_RESOURCE_LIMIT:
            lines.append(
                f"{stack.hierarchical_id} has {count} resources of CloudFormation's {CLOUDFORMATION_RESOURCE_LIMIT}: "
                f"split it before it grows (README: 'Splitting stacks'; {sizes}; past {CLOUDFORMATION_RESOURCE_LIMIT} the CDK "
                "refuses to synthesize the stack)."
            )
    return lines


def run(build: Callable[[StableApp], object], *, app: StableApp | None = None) -> cx_api.CloudAssembly:
    """Build the app with ``build(app)`` and synthesize it checked; a ConfigError (bad input,
    a finding, undeclared drift) is printed as one message and exits 1, without a traceback."""
    try:
        app = app or StableApp()
        build(app)
        return app.synth_checked()
    except ConfigError as error:
        print(f"stable_fargate: {error}", file=sys.stderr)
        with contextlib.suppress(BrokenPipeError):
            sys.stderr.flush()
        raise SystemExit(1) from None
