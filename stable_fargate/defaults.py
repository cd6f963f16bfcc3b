"""Every hardened default, as a named constant with the reason it has this value.

Tests import these names and assert them on the synthesized templates, so a default that
is lost or changed by accident fails a test, not a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# --- Environments -----------------------------------------------------------------------

MIN_AZS: Final = 2
"""Every environment spans at least two AZs: one AZ outage must not stop the service."""

MIN_AZS_PRODUCTION: Final = 3
"""Prod spans three AZs so that losing one still leaves two to absorb its tasks."""

RETAIN_DATA_ENVIRONMENTS: Final = frozenset({"staging", "prod"})
"""Environments whose stateful resources (repositories, queues, databases) are retained on
stack deletion or replacement. Dev is disposable; staging holds test data worth keeping."""

# --- Images (HardenedRepository, ImageRef) ------------------------------------------------

RELEASE_IMAGE_RETENTION_DAYS: Final = 365
"""Release images (``v...`` tags) expire a year after their push, by age and not by count.
ECR's count rules count every image their selection matches, including images a higher-priority
rule matched, and no tag selection can exclude ``v1.9.0-rc.1`` from ``v*``: a count rule on
releases would let a busy week of release candidates push releases out. An age rule counts
nothing, so candidates can never push a release out; a year of releases stays available for
rollback, and every release an environment runs is protected by a rule of its own."""

UNTAGGED_IMAGE_EXPIRY_DAYS: Final = 7
"""Untagged images (failed pushes, superseded layers) expire after a week."""

RELEASE_TAG_PREFIX: Final = "v"
"""Release images are tagged ``v<semver>``; the release rule matches this prefix."""

KEEP_PRERELEASE_IMAGES: Final = 20
"""Pre-release images (``v1.9.0-rc.1``: a ``v`` tag with a ``-``) kept per repository, by a
count rule evaluated before the release rule (so the release rule can never expire them)."""

PRERELEASE_TAG_PATTERN: Final = "v*-*"
"""ECR lifecycle tag pattern of pre-release tags."""

PROTECTED_TAG_COUNT: Final = 1
"""A protection rule selects one exact tag and expires images beyond this count: an immutable
tag names exactly one image, so the rule never expires anything, and because it matches that
image no lower-priority rule may expire it."""

MOVING_TAGS: Final = frozenset(
    {
        "latest", "main", "master", "stable", "prod", "production", "staging", "dev",
        "develop", "development", "edge", "nightly", "current", "release", "head", "trunk",
        "test", "qa", "canary", "beta", "alpha", "snapshot", "next",
    }
)
"""Tags that name a branch or a channel, not a build: they move, so two tasks of one
service can run different code. Refused even where the repository is immutable, because
other registries may not be."""

ECR_PUBLIC_CACHE_PREFIX: Final = "ecr-public"
"""Repository prefix of the pull-through cache for ECR Public in the registry account."""

KEEP_CACHED_IMAGES: Final = 50
"""Cached public images kept per cache repository; the cache refills itself on the next pull."""

# --- Network (PrivateNetwork) -------------------------------------------------------------

PUBLIC_SUBNET_MASK: Final = 24
"""Public subnets hold only load balancers: a /24 per AZ is plenty."""

PRIVATE_SUBNET_MASK: Final = 20
"""Private subnets hold tasks, endpoints and data: a /20 per AZ (4091 addresses) leaves
room for a scale-out plus a 200 % rollout of every service."""

INTERFACE_ENDPOINT_SERVICES: Final = (
    "ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "sqs", "monitoring",
)
"""What a task needs at start and while running, reached without a NAT path: image
manifests and layers (with the S3 gateway), logs, secrets, parameters, queues, metrics."""

FLOW_LOG_RETENTION_DAYS: Final = 365
"""A year of VPC flow logs: PCI DSS 10.7 asks for at least one year of audit trail."""

# --- Cost ---------------------------------------------------------------------------------

BUDGET_ACTUAL_ALERT_PERCENT: Final = 80.0
"""The environment's budget alerts when the month's actual cost passes 80 % of it: time to act
before the month ends ..."""

BUDGET_FORECAST_ALERT_PERCENT: Final = 100.0
"""... and when AWS forecasts the month to end above it."""

# --- Cluster ------------------------------------------------------------------------------

CONTAINER_INSIGHTS: Final = "enhanced"
"""Enhanced Container Insights: per-task metrics, and RunningTaskCount that the workers'
backlog-per-task signal divides by."""

# --- Logs ---------------------------------------------------------------------------------

LOG_RETENTION_DAYS: Final = 365
"""Application logs kept a year (PCI DSS 10.7), encrypted with the environment's key."""

# --- Tasks (shared by every service) ------------------------------------------------------

FARGATE_MEMORY_MIB: Final[Mapping[int, tuple[int, ...]]] = MappingProxyType({
    256: (512, 1024, 2048),
    512: (1024, 2048, 3072, 4096),
    1024: (2048, 3072, 4096, 5120, 6144, 7168, 8192),
    2048: (4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384),
    4096: (8192, 9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384, 17408, 18432, 19456, 20480,
           21504, 22528, 23552, 24576, 25600, 26624, 27648, 28672, 29696, 30720),
    8192: (16384, 20480, 24576, 28672, 32768, 36864, 40960, 45056, 49152, 53248, 57344, 61440),
    16384: (32768, 40960, 49152, 57344, 65536, 73728, 81920, 90112, 98304, 106496, 114688, 122880),
})
"""Fargate's valid CPU units -> memory (MiB)
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
An invalid pair fails at deploy, minutes in; checked here it fails at synth (and at load)."""

DEFAULT_CPU: Final = 512
"""Half a vCPU: enough for a Node.js or JVM service to warm up without throttling."""

DEFAULT_MEMORY_MIB: Final = 1024
"""1 GiB, the smallest valid memory for 512 CPU units."""

DEFAULT_MIN_TASKS: Final = 1
"""A service an environment does not size keeps one task: it answers at once. Production web
services refuse fewer than ``WEB_PRODUCTION_MIN_TASKS``; size them in cdk.json."""

DEFAULT_MAX_TASKS: Final = 2
"""Room for one more task than the minimum, not an open-ended bill: size it per environment
(``services.<name>.max_tasks``)."""

CPU_ARCHITECTURE: Final = "ARM64"
"""Graviton: about 20 % cheaper than x86 per vCPU-hour on Fargate for the same work."""

CONTAINER_USER: Final = "1000:1000"
"""Containers run as a non-root user; the image must own its files for this uid."""

TMP_VOLUME_PATH: Final = "/tmp"
"""The one writable path beside a read-only root filesystem."""

MAX_STOP_TIMEOUT_SECONDS: Final = 120
"""Fargate's ceiling for the SIGTERM-to-SIGKILL window."""

SECRET_LOOKING_WORDS: Final = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE_KEY")
"""An environment key containing one of these is a secret: it must come from Secrets
Manager or SSM, never as a plain value in the task definition."""

SECRET_LOOKING_SEGMENTS: Final = frozenset({"KEY", "PWD", "PASS", "APIKEY"})
"""The same for whole ``_``-separated parts of a key (``API_KEY``, ``DB_PASS``): as parts, so
that ``MONKEY_MODE`` or ``KEYBOARD_LAYOUT`` stay plain."""

# --- Scaling (shared) ---------------------------------------------------------------------

SCALE_OUT_COOLDOWN_SECONDS: Final = 60
"""Scale out within a minute of the last scale-out: load does not wait."""

SCALE_IN_COOLDOWN_SECONDS: Final = 300
"""Scale in at most every five minutes, so a dip does not start a saw-tooth of launches."""

# --- Workers and jobs (QueueWorker, ScheduledJob) ---------------------------------------

QUEUE_RECEIVE_WAIT_SECONDS: Final = 20
"""Long polling at SQS's maximum: fewer empty receives (each one billed) and a message is
handed over as soon as it arrives instead of at the next short poll."""

QUEUE_MAX_RECEIVE_COUNT: Final = 5
"""A message goes to the DLQ on its fifth receive: enough to ride out a deploy, a Spot
interruption or a throttled dependency, few enough that a poison message leaves the queue
within five visibility timeouts instead of blocking a worker for days."""

QUEUE_RETENTION_DAYS: Final = 4
"""SQS's own default, written down: a backlog older than four days is an incident, not a queue."""

DLQ_RETENTION_DAYS: Final = 14
"""SQS's maximum. A standard queue's message expires by its *original* enqueue time, so the
DLQ must keep messages longer than the source queue or they vanish on arrival."""

VISIBILITY_TIMEOUT_FACTOR: Final = 2
"""Visibility timeout >= 2x the longest processing time: a slow message is not handed to a
second worker while the first one still works on it (a duplicate import)."""

WORKER_STOP_MARGIN_SECONDS: Final = 10
"""Stop timeout = longest processing + this margin: time to delete the message and flush
logs after SIGTERM before SIGKILL."""

WORKER_ON_DEMAND_BASE: Final = 1
"""Every worker keeps its first task on regular Fargate, in every environment: ECS does not
fall back from Fargate Spot when Spot has no capacity (the task stays pending), and a worker
that may scale from zero would otherwise wake into nothing."""

ON_DEMAND_WEIGHT: Final = 1
"""Above the base, one task in ``ON_DEMAND_WEIGHT + SPOT_WEIGHT`` goes to regular Fargate, so a
Spot shortage during a burst still leaves a share of the new tasks running ..."""

SPOT_WEIGHT: Final = 4
"""... and the rest (80 %) to Fargate Spot, up to 70 % cheaper."""

SCALING_PERIOD_SECONDS: Final = 60
"""Scaling metrics and alarms use one-minute datapoints, the resolution SQS and Container
Insights publish at."""

BACKLOG_LATENCY_SHARE: Final = 0.5
"""The backlog per task is sized so that a message waits at most half the acceptable latency
behind the others; the other half is the time scaling needs to react (a minute of metric lag,
a task start). Sized to the whole latency, every steady state would wait the acceptable
latency and sit on the edge of its alarm."""

WORKER_TARGET_UTILIZATION: Final = 0.8
"""Workers are sized to be busy 80 % of the time at the current arrival rate (Little's law:
tasks = arrivals per second x processing time / utilization): room for the variance of
arrivals and processing times without letting a queue form."""

TASKS_NEEDED_TARGET: Final = 1.0
"""Target tracking holds *tasks needed per running task* at 1: as many tasks run as the queue
needs."""

BURST_COOLDOWN_SECONDS: Final = 180
"""Cooldown of the burst step. CloudWatch re-invokes a scaling action every minute while its
alarm stays in ALARM, and the DesiredTaskCount datapoints the alarm reads arrive about a
minute late: evaluations up to period (60 s) + lag (60 s) after a step still see the capacity
before it. Inside the cooldown, Application Auto Scaling counts the capacity the step added
as already there, so those stale evaluations add nothing twice; the third minute is margin."""

MAX_STEP_ADJUSTMENTS: Final = 20
"""Application Auto Scaling's default quota of step adjustments per step scaling policy; the
burst steps are spread over at most this many."""

WORKER_COLD_START_SECONDS: Final = 180
"""From zero tasks a message waits for the one-minute queue datapoint (up to 60 s), its
arrival at CloudWatch (about 60 s), the wake alarm and its step, and a Fargate task start
(ENI, image pull: about 60 s) before it is read: about three minutes."""

SQS_METRICS_RESUME_SECONDS: Final = 900
"""SQS stops publishing metrics for a queue that has been empty and untouched for six hours and
may take up to 15 minutes to publish again after the next message; a worker at zero cannot
wake before that. A worker that may scale to zero alarms on its oldest message only past
acceptable latency + cold start + this, and production workers keep a task (min_tasks >= 1)."""

ALARM_PERIOD_SECONDS: Final = 60
"""Worker and job alarms evaluate one-minute datapoints..."""

ALARM_EVALUATION_PERIODS: Final = 1
"""...and alarm on the first breaching one: the threshold (acceptable latency, one DLQ
message, one failed run) is already the budget, so waiting longer only spends more of it."""

ARRIVALS_EVALUATION_PERIODS: Final = 2
"""An arrivals alarm (messages moved to a DLQ) looks at two one-minute datapoints, one of which
must breach: DIFF needs the preceding datapoint inside the evaluated range, and the alarm
returns to OK two minutes after the last arrival, ready to page for the next one."""

JOB_RETRY_ATTEMPTS: Final = 3
"""EventBridge Scheduler retries a run that ECS refused to start (capacity, throttling) three
times; aws_ecs_patterns' ScheduledFargateTask has no retry policy at all."""

JOB_MAX_EVENT_AGE_SECONDS: Final = 3600
"""A run that could not start within an hour of its time goes to the DLQ and alarms: a
nightly job should not silently start at lunchtime."""

JOB_RETRY_INTERVAL_SECONDS: Final = 60
"""The orchestrator retries a run ECS could not start after a minute ..."""

JOB_RETRY_BACKOFF_RATE: Final = 2
"""... then two and four minutes: capacity shortages and throttling pass within minutes."""

JOB_ORCHESTRATION_MARGIN_SECONDS: Final = 900
"""The orchestrator's own timeout is the job's max runtime plus this: start retries (1 + 2 + 4
min), the overlap check, stopping the task and recording the failure all fit in 15 minutes."""

JOB_STOP_TIMEOUT_SECONDS: Final = 120
"""Fargate's maximum: a job stopped by hand gets the longest possible time to checkpoint."""

FAILED_RUN_RETENTION_DAYS: Final = 14
"""Failed-run records (scheduler DLQ messages and task-stopped events) kept two weeks, so
the cause is still there after a long weekend."""

WORKER_MIN_TASKS_PRODUCTION: Final = 1
"""Production workers keep one task: a polling task reads the first message of the morning at
once and keeps the queue active, so SQS never stops publishing its metrics (it does after six
idle hours, and takes up to 15 minutes to resume)."""

WORKER_MIN_HEALTHY_PERCENT: Final = 100
"""A deployment starts new workers before it stops old ones: the backlog keeps draining."""

WORKER_MAX_HEALTHY_PERCENT: Final = 200
"""Room for a full set of new tasks beside the old ones during a deployment."""

JOB_CAPACITY_PROVIDER: Final = "FARGATE"
"""Scheduled jobs run on regular Fargate: a Spot reclaim halfway through a reconciliation
leaves a half-done run to clean up, and a nightly run costs little on demand."""

# --- Web services (StableWebService) ---------------------------------------------------

WEB_MAX_WARM_UP_SECONDS: Final = 1200
"""Warm-up is accepted from 0 to 20 minutes; an app that needs longer to answer its health
check should warm up in the background and answer ``/healthz`` early."""

CONTAINER_HEALTH_CHECK_MAX_START_PERIOD_SECONDS: Final = 300
"""ECS's ceiling for a container health check's start period; a longer warm-up is covered by
stretching the check's interval instead (start period + retries x interval >= warm-up)."""

CONTAINER_HEALTH_CHECK_INTERVAL_SECONDS: Final = 10
"""Container health check every 10 s (ECS default 30 s): a hung process is found in 30 s."""

CONTAINER_HEALTH_CHECK_TIMEOUT_SECONDS: Final = 5
"""ECS's default; a health endpoint that needs more than 5 s is itself a finding."""

CONTAINER_HEALTH_CHECK_RETRIES: Final = 3
"""Three consecutive failures after the start period mark the container unhealthy."""

TARGET_HEALTH_CHECK_INTERVAL_SECONDS: Final = 10
"""Target-group check every 10 s (aws_ecs_patterns: 30 s) ..."""

TARGET_HEALTHY_THRESHOLD: Final = 2
"""... two successes to be healthy (patterns: 5): a new task takes traffic 20 s after it can
answer, not 150 s ..."""

TARGET_UNHEALTHY_THRESHOLD: Final = 3
"""... and three failures (30 s) to be taken out of rotation: one slow answer is not enough."""

TARGET_HEALTH_CHECK_TIMEOUT_SECONDS: Final = 5
"""Below the 10 s interval, as ELB requires."""

TARGET_HEALTHY_HTTP_CODES: Final = "200-399"
"""A redirect from the health path still means the process serves requests."""

WEB_LONGEST_REQUEST_SECONDS: Final = 30
"""The longest request the service expects. The deregistration delay equals it (ELB default
300 s): a stopping task drains for as long as a request can take, not five minutes."""

WEB_STOP_MARGIN_SECONDS: Final = 10
"""Stop timeout = longest request + this margin: when SIGTERM comes without a drain first
(a Spot reclaim, a task stopped by hand) the last request still finishes and the pool closes."""

WEB_MIN_HEALTHY_PERCENT: Final = 100
"""Never run below the desired count during a rollout (patterns: 50 %, and CDK warns)."""

WEB_MAX_HEALTHY_PERCENT: Final = 200
"""Start a whole new set before stopping the old one: one batch per rollout."""

WEB_PRODUCTION_MIN_TASKS: Final = 2
"""Production keeps at least two tasks so that one AZ or one task failure never stops it."""

WEB_REQUESTS_PER_TARGET: Final = 1000
"""Target tracking on ALBRequestCountPerTarget (requests per task per minute, ~17/s)."""

WEB_CPU_TARGET_PERCENT: Final = 60
"""CPU target: leaves 40 % headroom for the minutes that scaling out takes."""

DEPLOYMENT_ALARM_PERIOD_SECONDS: Final = 60
"""Deployment alarms evaluate one-minute datapoints: a bad release rolls back in minutes."""

WEB_5XX_RATE_PERCENT: Final = 5
"""Roll back when more than 5 % of requests answer 5xx from the targets ..."""

WEB_5XX_MIN_REQUESTS: Final = 20
"""... in a minute with at least 20 requests (one failed request of two is not a rate) ..."""

WEB_5XX_DATAPOINTS: Final = 2
"""... for two minutes in a row: one blip of a dependency does not roll back a good release."""

WEB_UNHEALTHY_HOSTS_THRESHOLD: Final = 1
"""Roll back when any target stays unhealthy for longer than warm-up plus the time to be
counted healthy (its datapoints are derived from warm-up, so warming tasks never trip it)."""

WEB_ACCESS_LOG_RETENTION_DAYS: Final = 365
"""Load balancer access logs kept a year (PCI DSS 10.7)."""

WEB_ACCESS_LOG_NONCURRENT_DAYS: Final = 30
"""Overwritten or deleted log objects stay recoverable for 30 days (versioned bucket)."""

WEB_TLS_POLICY: Final = "TLS13_12_RES_PQ"
"""ELB policy (``SslPolicy`` member): TLS 1.2 and 1.3 only, no CBC ciphers, post-quantum key
exchange for clients that offer it."""

WEB_IDLE_TIMEOUT_SECONDS: Final = 60
"""ALB idle timeout (its default); raised to longest request + 5 s when that is longer."""

WEB_ENABLE_EXECUTE_COMMAND: Final = False
"""ECS Exec is a shell into production: off unless a service asks for it."""

WEB_ACL_MANAGED_RULE_GROUPS: Final = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)
"""AWS WAF managed rule groups in front of every public load balancer (PCI DSS 6.6): known
bad sources, exploit patterns (Log4Shell and the like) and the OWASP-style common rules."""

WAF_LOG_RETENTION_DAYS: Final = 365
"""WAF logs kept a year, like every other audit log."""

WAF_REDACTED_HEADERS: Final = ("authorization", "cookie", "proxy-authorization", "x-api-key")
"""Request headers WAF writes as ``REDACTED``: bearer tokens, session cookies and API keys
must not sit in a log group for a year where everyone who may read logs can replay them."""

HEALTH_PROBE_ABORT_MARGIN_SECONDS: Final = 1
"""An in-container health probe gives up this long before the check's timeout, so a slow
answer that still arrives in time is counted, not cut off by ECS as a failure."""

ROLLOUT_TASK_START_SECONDS: Final = 60
"""Assumed time from ECS placing a task to its container running (ENI, image pull); the same
figure is used for aws_ecs_patterns' batch so that the comparison is like for like."""

GRACE_START_ALLOWANCE_SECONDS: Final = 30
"""Added to the grace period on top of warm-up and the target group's worst-case time to
healthy: the container start after the image pull, the target's registration with the load
balancer and a slow first answer. Without it a good release could be stopped seconds before
its targets pass, and roll back."""

EXPECTED_FEATURE_FLAGS: Final[Mapping[str, tuple[object, str]]] = MappingProxyType({
    "@aws-cdk/core:defaultCrossStackReferences": (
        "weak",
        "services read the platform's outputs with Fn::GetStackOutput; exports would lock those outputs while any "
        "service reads them, and a platform change would need every service stack changed first",
    ),
    "@aws-cdk/aws-stepfunctions-tasks:fixRunEcsTaskPolicy": (
        True,
        "a job's orchestrator may run only the task definition revision it was deployed with, not any revision of its family",
    ),
    "@aws-cdk/aws-iam:minimizePolicies": (
        True, "grants merge into fewer statements, so a service with many grants stays within IAM's policy size limits",
    ),
})
"""The CDK feature flags whose absence changes what this library's stacks may do (measured: each of
cdk.json's flags left out in turn on the sample app; seven change its templates, these three its
behaviour, README: Feature flags), with the value the tests synthesize with and why. StableApp
warns at synth about a flag an app leaves out or sets otherwise."""

# --- Databases (HardenedPostgres, PostgresAccess, ConnectionBudget) -----------------------

POSTGRES_ENGINE_VERSION: Final = "17.7"
"""RDS for PostgreSQL pinned to a full version: an engine upgrade is a reviewed change that
staging runs before prod, like an image release. 17.7 is the minor RDS itself moves retired
17.x minors to in 2026 (RDS for PostgreSQL release calendar:
https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html)."""

POSTGRES_MAJOR_VERSION: Final = "17"
"""The major of :data:`POSTGRES_ENGINE_VERSION`: the parameter group family (postgres17)."""

DATABASE_AUTO_MINOR_VERSION_UPGRADE: Final = False
"""No automatic minor upgrades: with them RDS would move prod to a version neither the template
nor staging has seen, in a maintenance window, and the pin above would be a fiction. Bump
:data:`POSTGRES_ENGINE_VERSION` instead (PCI DSS's rule is acknowledged on the instance)."""

DATABASE_INSTANCE_PORT: Final = 5433
"""The instance listens on a non-default port (AwsSolutions-RDS11): a scan for 5432 finds
nothing there. Services reach it through the proxy, which listens on :data:`PROXY_PORT`."""

PROXY_PORT: Final = 5432
"""RDS Proxy for PostgreSQL always listens on 5432
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.html, limitations). Written
as a literal in every security-group rule: a port token makes cdk-nag's EC2 rules throw."""

PROXY_MAX_CONNECTIONS_PERCENT: Final = 80
"""The proxy may open up to 80 % of ``max_connections``; the rest is for what never goes
through it: RDS's reserved superuser slots, the proxy's own monitoring connections (not counted
in MaxDatabaseConnectionsAllowed) and an operator connecting to the instance directly during
an incident. The connection budget is checked against this 80 %."""

DATABASE_RESERVED_CONNECTIONS: Final = 5
"""Connections through the proxy that no service declares, counted in every budget: a
migration task (1), operators' sessions (2), monitoring queries (2)."""

DATABASE_ALLOCATED_STORAGE_GIB: Final = 20
"""gp3's smallest volume for RDS for PostgreSQL; storage autoscaling grows it."""

DATABASE_MAX_STORAGE_FACTOR: Final = 2
"""Storage autoscaling may grow a volume to twice its allocation unless the data says otherwise:
a full disk stops every write, and doubling is a bill someone notices."""

DATABASE_STORAGE_TYPE: Final = "gp3"
"""gp3: baseline IOPS and throughput independent of size, cheaper than gp2."""

DATABASE_BACKUP_RETENTION_DAYS: Final = 35
"""Automated backups (point-in-time recovery) kept 35 days, RDS's maximum, where data is
retained (staging, prod): a corruption found after a month-end close can still be undone."""

DATABASE_BACKUP_RETENTION_DAYS_DISPOSABLE: Final = 7
"""Backups kept a week in disposable environments (dev): enough to undo a bad migration,
and never 0 (which turns backups off: AwsSolutions-RDS13)."""

DATABASE_DELETION_PROTECTION: Final = True
"""Deletion protection in every environment: a stack deletion or replacement must never drop
a database; turning it off is a deliberate, separate change."""

DATABASE_MONITORING_INTERVAL_SECONDS: Final = 60
"""Enhanced monitoring every minute: OS metrics (memory, swap, per-process CPU) at the
resolution of the alarms."""

DATABASE_LOG_EXPORTS: Final = ("postgresql", "upgrade")
"""Log types RDS for PostgreSQL exports to CloudWatch Logs: the server log (connections,
errors) and engine upgrades (PCI DSS 10.2; kept LOG_RETENTION_DAYS, KMS-encrypted)."""

DATABASE_PARAMETERS: Final[Mapping[str, str]] = MappingProxyType({
    "rds.force_ssl": "1",
    "log_connections": "1",
    "log_disconnections": "1",
})
"""The instance refuses connections without TLS (``rds.force_ssl``) and logs every connection
and disconnection (who connected, from where, for how long: PCI DSS 10.2)."""

DATABASE_CA_CERTIFICATE: Final = "rds-ca-rsa2048-g1"
"""The CA of the instance's server certificate; RDS rotates certificates of this CA itself
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html)."""

DATABASE_MASTER_USERNAME: Final = "dbadmin"
"""The master user, whose password RDS keeps in Secrets Manager and rotates (every 7 days by
default) without a rotation Lambda of ours; no service uses it."""

DATABASE_CONNECT_VIA_PROXY: Final = True
"""Services connect through the RDS Proxy: it pools, survives a Multi-AZ failover without
dropping idle connections, and authenticates with IAM end to end (no password anywhere)."""

DATABASE_SSL_MODE: Final = "verify-full"
"""Every client verifies the server's certificate chain *and* host name: anything weaker lets a
host inside the VPC impersonate the database. Weaker modes need an acknowledgement with a reason."""

RDS_CA_BUNDLE_PATH: Final = "/etc/ssl/certs/rds-global-bundle.pem"
"""Where an image that connects to the instance directly keeps RDS's CA bundle
(https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem). Through the proxy no
bundle is needed: the proxy's certificate chains to Amazon's public roots."""

SYSTEM_CA_BUNDLE_PATH: Final = "/etc/ssl/certs/ca-certificates.crt"
"""The operating system's CA bundle (Debian, Ubuntu, Alpine with ca-certificates): the file a
weaker-than-verify-full mode through the proxy points libpq at."""

DATABASE_CPU_ALARM_PERCENT: Final = 80
"""The instance's CPU above 80 % ..."""

DATABASE_ALARM_EVALUATION_PERIODS: Final = 5
"""... for five one-minute datapoints pages: a busy minute does not, a saturated instance does."""

DATABASE_FREE_STORAGE_ALARM_PERCENT: Final = 10
"""Free storage below 10 % of the allocation pages: autoscaling acts at the same point, and a
page says it did (or could not: at its maximum)."""

DATABASE_CONNECTIONS_ALARM_PERCENT: Final = 90
"""Database connections above 90 % of the proxy's limit page: the budget's assumptions
(pool sizes, max tasks) no longer hold in practice, before clients queue at the proxy."""

# --- Releases (cdk.json: environments.<env>.release; StableWebService) ------------------

RELEASE_STRATEGY: Final = "rolling"
"""An environment that declares no release strategy runs rolling deployments: the fastest, and
what every service can run (a worker has no load balancer to shift traffic with)."""

RELEASE_BAKE_MINUTES: Final = 10
"""Blue/green, canary and linear keep the old tasks running 10 minutes after all production
traffic has moved (ECS's ``BakeTimeInMinutes``). A rollback inside that window is a traffic
shift back to tasks that are already warm, not a new set of tasks; 10 minutes is twice the
release alarms' worst-case detection (:data:`RELEASE_ALARM_DETECTION_SECONDS`), so a
release that fails only under full traffic is still caught inside it."""

CANARY_PERCENT: Final = 10.0
"""A canary takes 10 % of production traffic: a release failing 10 % of its requests fails
1 % of all requests while it bakes, and at 1000 requests a minute the canary still sees 100,
five times what its 5xx-rate alarm needs to judge it (``WEB_5XX_MIN_REQUESTS``)."""

CANARY_BAKE_MINUTES: Final = 6
"""The canary bakes 6 minutes before the rest of the traffic moves: one minute more than the
release alarms' worst-case detection (:data:`RELEASE_ALARM_DETECTION_SECONDS`, 5 min), so a
canary that fails is rolled back before it ever takes all traffic."""

LINEAR_STEP_PERCENT: Final = 25.0
"""A linear release moves a quarter of the traffic a step (ECS's default is 10 %): four steps
keep the time to full traffic under a quarter of an hour with the step bake below."""

LINEAR_STEP_BAKE_MINUTES: Final = 5
"""Each linear step bakes 5 minutes (ECS's default is 6): as long as the release alarms'
worst-case detection, so a step that fails is rolled back before the next one."""

RELEASE_ALARM_ALIGNMENT_SECONDS: Final = 60
"""A bad release's first minute may be a partial one-minute datapoint that does not breach:
the worst case counts one period before the first whole breaching datapoint."""

ALARM_DATA_LAG_SECONDS: Final = 60
"""A one-minute load balancer datapoint reaches the alarm about a minute after its minute ends
(the same lag the scaling alarms allow for, see ``BURST_COOLDOWN_SECONDS``)."""

ECS_ALARM_REACTION_SECONDS: Final = 60
"""Amazon ECS documents no time between a deployment alarm entering ALARM and the rollback
starting; the arithmetic assumes a minute."""

RELEASE_ALARM_DETECTION_SECONDS: Final = (
    RELEASE_ALARM_ALIGNMENT_SECONDS
    + WEB_5XX_DATAPOINTS * DEPLOYMENT_ALARM_PERIOD_SECONDS
    + ALARM_DATA_LAG_SECONDS
    + ECS_ALARM_REACTION_SECONDS
)
"""Worst case from a bad release's first production request to ECS acting on its alarm, with
the default two one-minute datapoints: 60 + 2 x 60 + 60 + 60 = 300 s. Canary and step bakes
shorter than this are refused: the bad release would take more traffic before its alarm trips."""

RELEASE_HOOK_SECONDS: Final = 30
"""The smoke check's share of a release: a cold start in the VPC and one request to each load
balancer node, each given ``SMOKE_CHECK_REQUEST_TIMEOUT_SECONDS``."""

WEB_TEST_LISTENER_PORT: Final = 9443
"""Test traffic reaches a release's new tasks on this HTTPS port of the load balancer before any
production traffic does; the load balancer admits it only from inside the VPC."""

WEB_RELEASE_ALARMS: Final = ("5xx", "latency")
"""The alarms on each target group's own traffic that roll a blue/green, canary or linear
release back. The load balancer's alarms see a 10 % canary failing 10 % of its requests as 1 %
of all requests, below their 5 % threshold; these see the new release's 10 %."""

WEB_RELEASE_LATENCY_STATISTIC: Final = "p95"
"""The release latency alarm reads each target group's 95th percentile response time ..."""

WEB_RELEASE_LATENCY_SECONDS: Final = 2
"""... and rolls back above 2 s for two minutes (in minutes with at least
``WEB_5XX_MIN_REQUESTS`` requests): a release that makes one request in twenty wait over two
seconds is broken for an API a browser or a payment flow waits on. A service whose normal p95
is near this passes its own ``release_latency_threshold``."""

SMOKE_CHECK_EXPECTED_STATUS: Final = 200
"""The smoke check expects 200 unless it declares another status."""

SMOKE_CHECK_REQUEST_TIMEOUT_SECONDS: Final = 5
"""Each smoke-check request may take 5 s: a health or smoke path slower than that is a finding."""

SMOKE_CHECK_FUNCTION_TIMEOUT_SECONDS: Final = 60
"""The smoke-check function's own timeout: the EC2 lookup and a request to each of up to
eight load balancer nodes fit well inside it; a hook that never answers rolls the release back."""

SMOKE_CHECK_MEMORY_MIB: Final = 256
"""Enough for boto3 and a few HTTPS requests; Lambda gives CPU in proportion to memory, so
the cold start stays short."""
