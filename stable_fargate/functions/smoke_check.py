"""The smoke check of a release: an Amazon ECS lifecycle hook at POST_TEST_TRAFFIC_SHIFT (test
traffic on the new tasks, production traffic still on the old). StableWebService inlines this
file into the function. Every load balancer node must answer the declared path on the test
listener with the expected status; otherwise the hook returns FAILED and ECS rolls back.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html"""

import http.client
import json
import os
import ssl
from collections.abc import Callable
from typing import Any


def addresses(describe: Callable[..., Any]) -> list[str]:
    """The load balancer nodes' private IPs, from the network interfaces ELB gave it (an
    internet-facing load balancer's DNS name resolves to public IPs, unreachable from here)."""
    found = describe(Filters=[{"Name": "description", "Values": ["ELB " + os.environ["LOAD_BALANCER"]]}])
    return sorted(str(i["PrivateIpAddress"]) for i in found["NetworkInterfaces"])


def tls() -> ssl.SSLContext:
    # A node is addressed by the private IP its own interface reports, and the certificate
    # names the public domain: the chain is verified, the name cannot be.
    context = ssl.create_default_context()
    context.check_hostname = False
    return context


def probe(ip: str) -> int:
    """The status the node's test listener answers the smoke path with; 0 for no answer."""
    headers = {"User-Agent": "stable-fargate-smoke-check"}
    if os.environ.get("HEADER_NAME"):
        headers[os.environ["HEADER_NAME"]] = os.environ.get("HEADER_VALUE", "")
    timeout = float(os.environ["REQUEST_TIMEOUT"])
    connection = http.client.HTTPSConnection(ip, int(os.environ["TEST_PORT"]), timeout=timeout, context=tls())
    try:
        connection.request("GET", os.environ["SMOKE_PATH"], headers=headers)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def handler(event: dict[str, Any], context: Any, describe: Callable[..., Any] | None = None,
            get: Callable[[str], int] = probe) -> dict[str, str]:
    if describe is None:
        import boto3  # type: ignore[import-not-found]  # in the Lambda runtime

        describe = boto3.client("ec2", endpoint_url=os.environ["EC2_ENDPOINT"]).describe_network_interfaces
    expected = int(os.environ["EXPECTED_STATUS"])
    statuses = {ip: get(ip) for ip in addresses(describe)}
    passed = bool(statuses) and all(status == expected for status in statuses.values())
    details = event.get("executionDetails") or event
    print(json.dumps({"revision": details.get("targetServiceRevisionArn"), "path": os.environ["SMOKE_PATH"],
                      "expected": expected, "statuses": statuses, "passed": passed}))
    return {"hookStatus": "SUCCEEDED" if passed else "FAILED"}
