"""Real parts for the enforcer: the Google Cloud SDK's Pub/Sub emulator (started and stopped
here), the function served by functions-framework over HTTP, a push subscription from the
budget's topic to it, messages published with the real Pub/Sub client. Only the GKE and
Compute Engine APIs are faked (fake_gke.py)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TOKEN_ANSWER, TOKEN_URL, require, write_adc
from tests.enforcer.fake_gke import FakeGke, Pool

responses = require("responses")
require("functions_framework")
require("google.cloud.pubsub_v1")

PROJECT = "gridcloud-test"
TOPIC = "atlas-gcp-budget"
BUDGET_ID = "9b1d6a8e-1f0c-4f2e-9a51-0c6e3f4d2b7a"
MAIN = Path(__file__).resolve().parents[2] / "gridcloud" / "enforcer" / "main.py"
#: The default profile's cap as the program writes it (amount, lag, pools' prices and
#: autoscaling), trimmed to two pools for readable assertions.
SETTINGS = {
    "facility": "atlas-gcp",
    "project": "atlas-analysis-facility",
    "location": "us-central1-a",
    "cluster": "atlas-gcp",
    "amount": "25000",
    "lagHours": "6",
    "restoreOnNewPeriod": True,
    "label": "gridcloud-cap",
    "pools": [
        {
            "name": "cpu",
            "nodeHourly": "0.75",
            "totalMinNodes": 0,
            "totalMaxNodes": 1250,
            "locationPolicy": "ANY",
        },
        {
            "name": "gpu",
            "nodeHourly": "0.25",
            "totalMinNodes": 0,
            "totalMaxNodes": 16,
            "locationPolicy": "ANY",
        },
    ],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Pub/Sub emulator exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail("the Pub/Sub emulator did not start")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.fail("the Google Cloud SDK (gcloud, with its Pub/Sub emulator) is missing")
    port = _free_port()
    data = tmp_path_factory.mktemp("pubsub-emulator")
    log = (data / "emulator.log").open("wb")
    process = subprocess.Popen(
        [
            gcloud,
            "beta",
            "emulators",
            "pubsub",
            "start",
            f"--host-port=127.0.0.1:{port}",
            f"--project={PROJECT}",
            f"--data-dir={data}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # gcloud starts java: stop the whole group
        env={
            **os.environ,
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            # no /tmp/hsperfdata_<user> left behind by the emulator's JVM
            "JAVA_TOOL_OPTIONS": f"{os.environ.get('JAVA_TOOL_OPTIONS', '')} -XX:-UsePerfData",
        },
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}", process)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


class Outcomes(logging.Handler):
    """The function's log: one ``message ID: outcome`` line per message handled."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.done = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.done:
            self.lines.append(record.getMessage())
            self.done.notify_all()

    def outcome(self, message_id: str, timeout: float = 60) -> str:
        prefix = f"message {message_id}: "
        with self.done:
            found = self.done.wait_for(
                lambda: any(line.startswith(prefix) for line in self.lines), timeout
            )
        assert found, f"the function never handled {message_id}; log: {self.lines[-5:]}"
        return next(line for line in self.lines if line.startswith(prefix))[len(prefix) :]


@dataclass
class Enforcer:
    gke: FakeGke
    outcomes: Outcomes
    publisher: Any
    topic: str

    def publish(self, data: bytes, **attributes: str) -> str:
        """Publish as Cloud Billing does; wait until the function handled it; its outcome."""
        message_id = self.publisher.publish(self.topic, data, **attributes).result(timeout=30)
        return self.outcomes.outcome(message_id)

    def notify(
        self,
        cost: str,
        *,
        start: str = "2026-11-01T07:00:00Z",
        budget_id: str = BUDGET_ID,
        exceeded: float | None = None,
    ) -> str:
        body: dict[str, Any] = {
            "budgetDisplayName": "gridcloud atlas-gcp",
            "costAmount": float(cost),
            "costIntervalStart": start,
            "budgetAmount": 25000.0,
            "budgetAmountType": "SPECIFIED_AMOUNT",
            "currencyCode": "USD",
        }
        if exceeded is not None:
            body["alertThresholdExceeded"] = exceeded
        return self.publish(
            json.dumps(body).encode(),
            billingAccountId="012345-6789AB-CDEF01",
            budgetId=budget_id,
            schemaVersion="1.0",
        )


@pytest.fixture
def enforcer(emulator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Enforcer]:
    from functions_framework import create_app
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import pubsub_v1
    from werkzeug.serving import make_server

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator)
    monkeypatch.setenv("GRIDCLOUD_CAP", json.dumps(SETTINGS))
    monkeypatch.setenv("GRIDCLOUD_BUDGET_ID", BUDGET_ID)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(write_adc(tmp_path / "adc.json")))
    gke = FakeGke(
        labels={"managed-by": "gridcloud", "gridcloud-facility": "atlas-gcp"},
        pools={
            "control": Pool("control", ("us-central1-a",), 1, {}),
            "cpu": Pool(
                "cpu",
                ("us-central1-a", "us-central1-b", "us-central1-c"),
                0,
                {"enabled": True, "totalMaxNodeCount": 1250, "locationPolicy": "ANY"},
            ),
            "gpu": Pool(
                "gpu",
                ("us-central1-a", "us-central1-b", "us-central1-c"),
                0,
                {"enabled": True, "totalMaxNodeCount": 16, "locationPolicy": "ANY"},
            ),
        },
    )
    outcomes = Outcomes()
    logger = logging.getLogger("gridcloud.enforcer")
    logger.addHandler(outcomes)
    app = create_app("on_budget_notification", str(MAIN), "cloudevent")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT, f"{TOPIC}-{tmp_path.name}")
    subscription = subscriber.subscription_path(PROJECT, f"enforcer-{tmp_path.name}")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(f"http://{emulator}")
        mock.add(responses.POST, TOKEN_URL, json=TOKEN_ANSWER)
        gke.serve(mock)
        thread.start()
        try:
            with contextlib.suppress(AlreadyExists):
                publisher.create_topic(name=topic)
            subscriber.create_subscription(
                request={
                    "name": subscription,
                    "topic": topic,
                    "push_config": {"push_endpoint": f"http://127.0.0.1:{server.port}/"},
                    "ack_deadline_seconds": 60,
                }
            )
            yield Enforcer(gke=gke, outcomes=outcomes, publisher=publisher, topic=topic)
        finally:
            subscriber.delete_subscription(subscription=subscription)
            publisher.delete_topic(topic=topic)
            server.shutdown()
            thread.join()
            logger.removeHandler(outcomes)
            publisher.transport.close()
            subscriber.close()
