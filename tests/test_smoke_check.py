"""The smoke-check function (stable_fargate/functions/smoke_check.py), run locally with the EC2
call and the requests replaced: what it asks EC2, what it requests, and its verdict."""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from stable_fargate.functions import smoke_check
from stable_fargate.services._release import HANDLER_SOURCE, INLINE_CODE_LIMIT

ENVIRONMENT = {
    "LOAD_BALANCER": "app/Prod-Api-Portf-1A2B3C/50dc6c495c0c9188",
    "EC2_ENDPOINT": "https://vpce-0abc.ec2.eu-west-2.vpce.amazonaws.com",
    "TEST_PORT": "9443",
    "SMOKE_PATH": "/healthz",
    "EXPECTED_STATUS": "200",
    "REQUEST_TIMEOUT": "5",
}
EVENT = {"executionDetails": {"targetServiceRevisionArn": "arn:aws:ecs:eu-west-2:333333333333:service-revision/c/s/1"}}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


class FakeEc2:
    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.calls: list[dict[str, Any]] = []

    def describe(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"NetworkInterfaces": [{"PrivateIpAddress": ip} for ip in self.addresses]}


def test_it_asks_ec2_for_the_load_balancers_own_interfaces() -> None:
    ec2 = FakeEc2(["10.30.1.20", "10.30.0.10"])
    smoke_check.handler(EVENT, None, describe=ec2.describe, get=lambda ip: 200)
    # ELB names its interfaces "ELB app/<name>/<id>": the load balancer's full name.
    assert ec2.calls == [{"Filters": [{"Name": "description", "Values": ["ELB app/Prod-Api-Portf-1A2B3C/50dc6c495c0c9188"]}]}]


def test_every_node_must_answer_the_expected_status() -> None:
    asked: list[str] = []

    def get(ip: str) -> int:
        asked.append(ip)
        return 200

    result = smoke_check.handler(EVENT, None, describe=FakeEc2(["10.30.1.20", "10.30.0.10", "10.30.2.5"]).describe, get=get)
    assert result == {"hookStatus": "SUCCEEDED"}
    assert asked == ["10.30.0.10", "10.30.1.20", "10.30.2.5"]


@pytest.mark.parametrize("statuses", [[200, 500], [0, 200], [503, 503], [404, 200]])
def test_one_wrong_or_missing_answer_fails_the_release(statuses: list[int]) -> None:
    answers = iter(statuses)
    result = smoke_check.handler(EVENT, None, describe=FakeEc2(["10.30.0.10", "10.30.1.20"]).describe, get=lambda ip: next(answers))
    # FAILED: ECS rolls the deployment back to the last good revision.
    assert result == {"hookStatus": "FAILED"}


def test_no_node_found_fails_rather_than_passes() -> None:
    assert smoke_check.handler(EVENT, None, describe=FakeEc2([]).describe, get=lambda ip: 200) == {"hookStatus": "FAILED"}


def test_the_declared_status_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPECTED_STATUS", "401")
    describe = FakeEc2(["10.30.0.10"]).describe
    assert smoke_check.handler(EVENT, None, describe=describe, get=lambda ip: 401) == {"hookStatus": "SUCCEEDED"}
    assert smoke_check.handler(EVENT, None, describe=describe, get=lambda ip: 200) == {"hookStatus": "FAILED"}


def test_it_logs_one_line_with_the_revision_and_the_answers(capsys: pytest.CaptureFixture[str]) -> None:
    smoke_check.handler(EVENT, None, describe=FakeEc2(["10.30.0.10"]).describe, get=lambda ip: 500)
    line = capsys.readouterr().out.strip()
    assert "service-revision/c/s/1" in line and '"10.30.0.10": 500' in line and '"passed": false' in line


def test_tls_verifies_the_chain_but_not_the_name() -> None:
    context = smoke_check.tls()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False


# --- the request itself, against a local listener ----------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, dict[str, str]]]] = []

    def do_GET(self) -> None:
        _Recorder.seen.append((self.path, dict(self.headers)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def plain_listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A local HTTP listener, and probe() speaking plain HTTP to it (the TLS context is the
    production one; this checks the request the probe sends)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(smoke_check.http.client, "HTTPSConnection",
                        lambda host, port, timeout, context: smoke_check.http.client.HTTPConnection(host, port, timeout=timeout))
    _Recorder.seen = []
    yield server.server_address[1]
    server.shutdown()


def test_the_probe_requests_the_path_with_the_declared_header(plain_listener: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_PORT", str(plain_listener))
    monkeypatch.setenv("SMOKE_PATH", "/smoke?depth=full")
    monkeypatch.setenv("HEADER_NAME", "X-Smoke-Test")
    monkeypatch.setenv("HEADER_VALUE", "1")
    assert smoke_check.probe("127.0.0.1") == 204
    ((path, headers),) = _Recorder.seen
    assert path == "/smoke?depth=full"
    assert headers["X-Smoke-Test"] == "1"


def test_no_answer_is_status_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setenv("TEST_PORT", str(port))
    monkeypatch.setenv("REQUEST_TIMEOUT", "1")
    assert smoke_check.probe("127.0.0.1") == 0


def test_the_source_fits_inline_function_code() -> None:
    assert len(HANDLER_SOURCE.read_text(encoding="utf-8")) <= INLINE_CODE_LIMIT
