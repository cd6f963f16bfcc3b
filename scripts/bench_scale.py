#!/usr/bin/env python3
"""Benchmark at scale: N (web service, worker, job) triples per environment over three
environments, built on the library and, for comparison, with aws_ecs_patterns.

Prints figures; it asserts nothing (shared machines are noisy). Run with `make bench-scale`
(`make bench` runs it too). Every case runs in a fresh interpreter, so its peak memory is its
own; each runs --runs times and the median is printed.

Cases, for N in --triples (default 0, 10, 30) triples per environment:

* ``peer``: the topology written with aws_ecs_patterns (ApplicationLoadBalancedFargateService,
  QueueProcessingFargateService, ScheduledFargateTask per triple; a VPC and a cluster per
  environment; a plain ECR repository per service), ``App.synth()``.
* ``library``: the same topology on the library (EnvironmentPlatform, StableWebService,
  QueueWorker, ScheduledJob, HardenedRepository), ``StableApp(packs=())`` and ``App.synth()``:
  no nag pack, no gate, no drift guard. Like for like with ``peer``.
* ``library+checks``: the library the way an own app runs it: StableApp with its nag packs
  (AwsSolutions, PCI DSS 3.2.1, StableFargateChecks) and ``synth_checked`` (gate, drift guard,
  resource warning). What the checks cost is this row minus ``library``; the peer runs none.

Both apps split their services alike: per environment a Platform stack, and a Services stack
per group of :data:`TRIPLES_PER_STACK` triples, so no stack nears CloudFormation's 500
resources (the library's triple is the larger, so it sets the group size).

Time is given as CPU time (Python's and jsii's Node.js's, build + synth: what a loaded machine
does not stretch) and on the clock. Per resource it is given two ways: the case's build + synth
time over its resources, and each further resource's cost, (time(N2) - time(N1)) /
(resources(N2) - resources(N1)), which leaves out what every app pays once (importing the CDK,
Node.js, the platforms, the CDK's CloudFormation Validate engine).

Both apps take cdk.json's feature flags.

    python scripts/bench_scale.py [--runs 3] [--triples 0 10 30]
    python scripts/bench_scale.py --case library --n 10          # one case, prints JSON
    python scripts/bench_scale.py --case library --n 10 --profile out.prof   # cProfile (CPU) of build + synth
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"

TRIPLES_PER_STACK = 6
"""Triples per Services stack: the library's triple is 63 resources (web 25 + its grant to send
1, worker 21, job 16: tests/test_resource_counts.py), so six make 378, below the entry point's
warning at 400; a seventh would warn and an eighth pass CloudFormation's 500. The peer's
smaller triple (42) is grouped alike, so both apps have the same stacks."""

ENVIRONMENTS = ("dev", "staging", "prod")
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
TOOLING_ACCOUNT = "100000000000"
REGION = "eu-west-2"
AVAILABILITY_ZONES = ("eu-west-2a", "eu-west-2b", "eu-west-2c")
RELEASE = "v1.0.0"

CASES = ("peer", "library", "library+checks")
LIKE_FOR_LIKE = ("peer", "library")
"""The rows that compare like with like: no nag pack, no gate, no drift guard on either side."""


# --- The data: three environments, N triples ---------------------------------------------------


def service_names(triples: int) -> Iterator[tuple[str, str, str]]:
    """(web, worker, job) service names of each triple."""
    for index in range(1, triples + 1):
        yield f"api-{index:02d}", f"worker-{index:02d}", f"job-{index:02d}"


def stable_fargate_block(triples: int) -> dict[str, Any]:
    """The cdk.json ``stable_fargate`` block of the benchmark app (dev, staging, prod), as an own
    app would declare it: every service sized and released in every environment."""
    environments: dict[str, Any] = {}
    for octet, name in enumerate(ENVIRONMENTS, start=1):
        production = name == "prod"
        small = {"cpu": 1024, "memory_mib": 2048} if production else {"cpu": 512, "memory_mib": 1024}
        services: dict[str, Any] = {}
        images: dict[str, str] = {}
        for web, worker, job in service_names(triples):
            services[web] = {**small, "min_tasks": 2 if production else 1, "max_tasks": 6 if production else 2}
            services[worker] = {**small, "min_tasks": 1 if production else 0, "max_tasks": 10 if production else 4}
            services[job] = dict(small)
            images.update(dict.fromkeys((web, worker, job), RELEASE))
        account = ACCOUNTS[name]
        environments[name] = {
            "account": account,
            "region": REGION,
            "availability_zones": list(AVAILABILITY_ZONES),
            "vpc_cidr": f"10.{octet * 10}.0.0/16",
            "nat_gateways": 0,
            "production": production,
            "certificate_arn": f"arn:aws:acm:{REGION}:{account}:certificate/00000000-0000-0000-0000-000000000000",
            "monthly_budget_usd": 500 * octet,
            "services": services,
            "images": images,
            **({"promotes_from": "staging"} if production else {}),
        }
    return {
        "tooling": {"account": TOOLING_ACCOUNT, "region": REGION},
        "environments": environments,
        "shared_parameters": {
            "keys": {"LOG_LEVEL": {"type": "string", "value": "info", "allowed": ["debug", "info", "warn", "error"]}},
            "overrides": {"dev": {"LOG_LEVEL": "debug"}},
        },
        "parameters": {},
    }


def feature_flags() -> dict[str, Any]:
    """cdk.json's feature flags (both apps get the same ones), without its stable_fargate block."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    return {k: v for k, v in context.items() if k != "stable_fargate"}


def groups(triples: int) -> list[list[tuple[str, str, str]]]:
    """The triples of each Services stack."""
    names = list(service_names(triples))
    return [names[i : i + TRIPLES_PER_STACK] for i in range(0, len(names), TRIPLES_PER_STACK)]


# --- The library app, as an own app builds it (like stable_fargate/scaffold/app.py) --------------


def build_library(app: Any, triples: int) -> None:
    from aws_cdk import Duration, Environment, Stack

    from stable_fargate import HardenedRepository, PlatformKey, QueueWorker, ScheduledJob, StableWebService
    from stable_fargate.images import referenced_tags
    from stable_fargate.platform import EnvironmentPlatform

    config = app.config
    registry = Stack(app, "Registry", env=Environment(account=config.tooling.account, region=config.tooling.region))
    key = PlatformKey(registry, "RegistryKey", description="release images")
    tags = referenced_tags(config)
    for names in service_names(triples):
        for name in names:
            HardenedRepository(registry, name, repository_name=name, pull_accounts=config.accounts,
                               encryption_key=key.key, protected_tags=tags.get(name, ()))
    for environment in config.environments:
        stage = app.environment_stage(environment)
        platform = EnvironmentPlatform(Stack(stage, "Platform"), "Default", environment=environment)
        inputs = platform.service_inputs
        for number, group in enumerate(groups(triples), start=1):
            services = Stack(stage, f"Services{number}")
            for web, worker_name, job in group:
                api = StableWebService(
                    services, web, service_name=web, **inputs,
                    container_port=8080, health_check_path="/healthz", warm_up=Duration.seconds(30),
                )
                worker = QueueWorker(
                    services, worker_name, service_name=worker_name, **inputs,
                    average_processing_time=Duration.seconds(1), longest_processing_time=Duration.seconds(15),
                    acceptable_latency=Duration.seconds(60),
                )
                worker.allow_producer(api, url_key="WORKER_QUEUE_URL")
                ScheduledJob(
                    services, job, service_name=job, **inputs,
                    schedule="0 2 * * ? *", time_zone="Europe/London", max_runtime=Duration.hours(1),
                )


# --- The same topology with aws_ecs_patterns ------------------------------------------------------


def build_peer(app: Any, triples: int) -> None:
    from aws_cdk import Duration, Environment, Stack, Stage
    from aws_cdk import aws_applicationautoscaling as appscaling
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_ecr as ecr
    from aws_cdk import aws_ecs as ecs
    from aws_cdk import aws_ecs_patterns as patterns

    # A stack without resources fails CloudFormation's validation: no registry without services.
    if triples:
        registry = Stack(app, "Registry", env=Environment(account=TOOLING_ACCOUNT, region=REGION))
        for names in service_names(triples):
            for name in names:
                ecr.Repository(registry, name, repository_name=name)
    for octet, name in enumerate(ENVIRONMENTS, start=1):
        stage = Stage(app, name.capitalize(), env=Environment(account=ACCOUNTS[name], region=REGION))
        platform = Stack(stage, "Platform")
        vpc = ec2.Vpc(platform, "Vpc", ip_addresses=ec2.IpAddresses.cidr(f"10.{octet * 10}.0.0/16"),
                      availability_zones=list(AVAILABILITY_ZONES), nat_gateways=1)
        cluster = ecs.Cluster(platform, "Cluster", vpc=vpc)
        production = name == "prod"
        cpu, memory = (1024, 2048) if production else (512, 1024)
        for number, group in enumerate(groups(triples), start=1):
            services = Stack(stage, f"Services{number}")

            def image(repository: str, scope: Stack = services) -> ecs.ContainerImage:
                ref = ecr.Repository.from_repository_attributes(
                    scope, f"{repository}Repository", repository_name=repository,
                    repository_arn=f"arn:aws:ecr:{REGION}:{TOOLING_ACCOUNT}:repository/{repository}",
                )
                return ecs.ContainerImage.from_ecr_repository(ref, RELEASE)

            for web, worker_name, job in group:
                api = patterns.ApplicationLoadBalancedFargateService(
                    services, web, cluster=cluster, cpu=cpu, memory_limit_mib=memory, desired_count=2 if production else 1,
                    task_image_options=patterns.ApplicationLoadBalancedTaskImageOptions(
                        image=image(web), container_name=web, container_port=8080,
                    ),
                )
                api.target_group.configure_health_check(path="/healthz")
                api.service.auto_scale_task_count(max_capacity=6 if production else 2).scale_on_cpu_utilization(
                    "Cpu", target_utilization_percent=50,
                )
                worker = patterns.QueueProcessingFargateService(
                    services, worker_name, cluster=cluster, cpu=cpu, memory_limit_mib=memory, image=image(worker_name),
                    container_name=worker_name, min_scaling_capacity=1 if production else 0,
                    max_scaling_capacity=10 if production else 4, visibility_timeout=Duration.seconds(30),
                )
                worker.sqs_queue.grant_send_messages(api.task_definition.task_role)
                container = api.task_definition.default_container
                assert container is not None
                container.add_environment("WORKER_QUEUE_URL", worker.sqs_queue.queue_url)
                patterns.ScheduledFargateTask(
                    services, job, cluster=cluster, schedule=appscaling.Schedule.cron(minute="0", hour="2"),
                    scheduled_fargate_task_image_options=patterns.ScheduledFargateTaskImageOptions(
                        image=image(job), cpu=cpu, memory_limit_mib=memory,
                    ),
                )


# --- One case in this process ------------------------------------------------------------------


def context(triples: int) -> dict[str, Any]:
    azs = {f"availability-zones:account={a}:region={REGION}": list(AVAILABILITY_ZONES) for a in ACCOUNTS.values()}
    return {**feature_flags(), **azs, "stable_fargate": stable_fargate_block(triples)}


def count_resources(directory: str) -> tuple[int, int, int]:
    """(stacks, resources, largest stack's resources) in a cloud assembly, nested stages too;
    the CDK's own CDKMetadata resource is not counted."""
    stacks, total, largest = 0, 0, 0
    for path in Path(directory).rglob("*.template.json"):
        resources = json.loads(path.read_text(encoding="utf-8")).get("Resources", {})
        count = sum(1 for r in resources.values() if r.get("Type") != "AWS::CDK::Metadata")
        stacks, total, largest = stacks + 1, total + count, max(largest, count)
    return stacks, total, largest


def descendants(pid: int) -> list[int]:
    """Every running process below ``pid``: jsii's Node.js (behind the venv's ``node`` wrapper)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


def process_figures(pid: int) -> tuple[float, float]:
    """(peak RSS MiB, CPU seconds) of one running process, from /proc."""
    peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return peak, cpu


def tree_figures() -> tuple[float, float, float]:
    """(peak RSS MiB, Python's CPU seconds, Node.js's CPU seconds) of this process and every
    process below it (peaks summed: they run side by side)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, python_cpu, node_cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, 0.0
    for pid in descendants(os.getpid()):
        child_peak, child_cpu = process_figures(pid)
        peak, node_cpu = peak + child_peak, node_cpu + child_cpu
    return peak, python_cpu, node_cpu


def count_jsii_calls() -> Callable[[], int]:
    """Count the requests to jsii's Node.js process from here on (each a round trip; answers to
    Node.js's calls back into Python count too): the one figure that noise cannot move."""
    from jsii._kernel.providers import process

    calls = [0]
    send = process._NodeProcess.send

    def counted(self: Any, request: Any, response_type: Any) -> Any:
        calls[0] += 1
        return send(self, request, response_type)

    process._NodeProcess.send = counted  # type: ignore[method-assign]
    return lambda: calls[0]


def run_case(case: str, triples: int, profile: str | None) -> dict[str, Any]:
    """Build and synthesize one case here; return its figures."""
    started = time.perf_counter()
    import aws_cdk  # noqa: F401 - the import (and jsii's Node.js start) is timed on its own

    from stable_fargate.app import StableApp

    imported = time.perf_counter()
    outdir = tempfile.mkdtemp(prefix="bench-scale-")
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU of this process: waits on Node.js do not count
        profiler.enable()
    _, py_start, node_start = tree_figures()
    jsii_calls = count_jsii_calls()
    build_start = time.perf_counter()
    checked = case == "library+checks"
    if case == "peer":
        from aws_cdk import App

        app: Any = App(context=context(triples), outdir=outdir)
        build_peer(app, triples)
    else:
        from stable_fargate.app import DEFAULT_PACKS

        app = StableApp(context=context(triples), outdir=outdir, packs=DEFAULT_PACKS if checked else ())
        build_library(app, triples)
    built = time.perf_counter()
    _, py_built, node_built = tree_figures()
    app.synth_checked() if checked else app.synth()
    synthesized = time.perf_counter()
    peak, py_end, node_end = tree_figures()
    calls = jsii_calls()
    if profiler is not None and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    stacks, resources, largest = count_resources(outdir)
    shutil.rmtree(outdir, ignore_errors=True)
    return {
        "case": case, "triples": triples, "stacks": stacks, "resources": resources, "largest_stack": largest,
        "import_s": imported - started, "build_s": built - build_start, "synth_s": synthesized - built,
        "build_cpu_python_s": py_built - py_start, "build_cpu_node_s": node_built - node_start,
        "synth_cpu_python_s": py_end - py_built, "synth_cpu_node_s": node_end - node_built, "peak_mib": peak,
        "jsii_calls": calls,
    }


# --- The driver ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One case's medians over its runs."""

    case: str
    triples: int
    stacks: int
    resources: int
    largest_stack: int
    process_s: float
    """The whole process on the clock: interpreter, imports, jsii's start, build, synth."""
    wall_s: float
    """Build + synth on the clock."""
    cpu_s: float
    """Build + synth in CPU time, Python's and Node.js's: what a loaded machine does not stretch."""
    peak_mib: float
    jsii_calls: int

    def per_resource_ms(self, *, cpu: bool) -> float:
        return 1000 * (self.cpu_s if cpu else self.wall_s) / self.resources


def measure(case: str, triples: int, runs: int, env: dict[str, str]) -> Figures:
    """The medians of ``runs`` fresh processes (peak memory: the largest)."""
    results, processes = [], []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--case", case, "--n", str(triples)],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )
        processes.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"case {case} N={triples} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    first = results[0]
    cpu_keys = ("build_cpu_python_s", "build_cpu_node_s", "synth_cpu_python_s", "synth_cpu_node_s")
    return Figures(
        case=case, triples=triples, stacks=first["stacks"], resources=first["resources"], largest_stack=first["largest_stack"],
        process_s=statistics.median(processes), wall_s=statistics.median(r["build_s"] + r["synth_s"] for r in results),
        cpu_s=statistics.median(sum(r[k] for k in cpu_keys) for r in results), peak_mib=max(r["peak_mib"] for r in results),
        jsii_calls=first["jsii_calls"],
    )


def marginal_ms(low: Figures, high: Figures, *, cpu: bool) -> float:
    """What each resource past ``low`` cost on the way to ``high``, in ms: the per-resource cost
    without what every app pays once (the CDK's import, Node.js, the platform, CloudFormation
    Validate's engine)."""
    spent = (high.cpu_s - low.cpu_s) if cpu else (high.wall_s - low.wall_s)
    return 1000 * spent / (high.resources - low.resources)


def report(rows: dict[tuple[str, int], Figures], triples: Sequence[int], runs: int, emit: Callable[[str], None]) -> None:
    emit(f"Synth at scale: N (web service, worker, job) triples per environment, {len(ENVIRONMENTS)} environments; "
         f"{TRIPLES_PER_STACK} triples per Services stack")
    emit(f"{'N':>3}  {'case':15} {'stacks':>6} {'resources':>9} {'largest':>7} {'process s':>9} {'build+synth s':>13} "
         f"{'CPU s':>6} {'CPU ms/res':>10} {'peak MiB':>8} {'jsii calls':>10}")
    for n in triples:
        for case in CASES:
            f = rows[(case, n)]
            emit(f"{n:>3}  {case:15} {f.stacks:>6} {f.resources:>9} {f.largest_stack:>7} {f.process_s:>9.1f} {f.wall_s:>13.1f} "
                 f"{f.cpu_s:>6.1f} {f.per_resource_ms(cpu=True):>10.2f} {f.peak_mib:>8.0f} {f.jsii_calls:>10}")
    emit("")
    emit("Like for like: library / peer (rows 'library' and 'peer': neither runs a nag pack, the gate or the drift guard;")
    emit("both run the CDK's own CloudFormation Validate, which cdk.json's feature flags turn on)")
    for n in triples:
        lib, peer = rows[("library", n)], rows[("peer", n)]
        emit(f"  N={n:<3} per resource: CPU {lib.per_resource_ms(cpu=True):5.2f} / {peer.per_resource_ms(cpu=True):5.2f} ms = "
             f"{lib.per_resource_ms(cpu=True) / peer.per_resource_ms(cpu=True):4.2f}x, wall {lib.per_resource_ms(cpu=False):5.2f} / "
             f"{peer.per_resource_ms(cpu=False):5.2f} ms = {lib.per_resource_ms(cpu=False) / peer.per_resource_ms(cpu=False):4.2f}x; "
             f"resources {lib.resources} / {peer.resources} = {lib.resources / peer.resources:4.2f}x; "
             f"whole synth (CPU) {lib.cpu_s / peer.cpu_s:4.2f}x")
    for low, high in itertools.pairwise(triples):
        lib_pair = rows[("library", low)], rows[("library", high)]
        peer_pair = rows[("peer", low)], rows[("peer", high)]
        lib_ms, peer_ms = marginal_ms(*lib_pair, cpu=True), marginal_ms(*peer_pair, cpu=True)
        emit(f"  N={low}->{high}: each further resource, CPU {lib_ms:5.2f} / {peer_ms:5.2f} ms = {lib_ms / peer_ms:4.2f}x "
             f"(wall {marginal_ms(*lib_pair, cpu=False):5.2f} / {marginal_ms(*peer_pair, cpu=False):5.2f} ms)")
    emit("")
    emit("What the checks cost the library (library+checks - library: AwsSolutions, PCI DSS 3.2.1, StableFargateChecks,")
    emit("the gate and the drift guard; not like for like: the peer runs none)")
    for n in triples:
        lib, checked = rows[("library", n)], rows[("library+checks", n)]
        emit(f"  N={n:<3} +{checked.cpu_s - lib.cpu_s:5.1f} s CPU ({checked.cpu_s / lib.cpu_s:4.2f}x), "
             f"+{checked.wall_s - lib.wall_s:5.1f} s wall, +{checked.peak_mib - lib.peak_mib:4.0f} MiB peak")
    load = os.getloadavg()[0]
    plural = "s" if runs != 1 else ""
    emit(f"(median of {runs} run{plural} per case, each in a fresh process; cores: {os.cpu_count()}; load average {load:.1f} "
         "at the end; CPU and peak RSS: Python + jsii's Node.js processes; build+synth leaves out imports and Node.js start-up)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--triples", type=int, nargs="+", default=[0, 10, 30])
    parser.add_argument("--case", choices=CASES, help="run one case in this process and print its figures as JSON")
    parser.add_argument("--n", type=int, default=10, help="triples per environment of --case")
    parser.add_argument("--profile", help="with --case: write a cProfile (CPU time) of build + synth to this file")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.n, args.profile)))
        return
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", CDK_DISABLE_VERSION_CHECK="true",
               AWS_EC2_METADATA_DISABLED="true")
    rows: dict[tuple[str, int], Figures] = {}
    for n in sorted(args.triples):
        for case in CASES:
            rows[(case, n)] = measure(case, n, args.runs, env)
            print(f"  measured {case} N={n}", file=sys.stderr, flush=True)
    report(rows, sorted(args.triples), args.runs, print)


if __name__ == "__main__":
    main()
