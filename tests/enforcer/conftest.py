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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gridcloud.enforcer.config import (
    BUDGET_VAR,
    SETTINGS_VAR,
    CappedCluster,
    CappedPool,
    Settings,
)
from tests.conftest import TOKEN_ANSWER, TOKEN_URL, missing, require, write_adc
from tests.enforcer.fake_gke import FakeGke, Pool, serve_all

responses = require("responses")
require("functions_framework")
require("google.cloud.pubsub_v1")

PROJECT = "gridcloud-test"
TOPIC = "atlas-gcp-budget"
BUDGET_ID = "9b1d6a8e-1f0c-4f2e-9a51-0c6e3f4d2b7a"
MAIN = Path(__file__).resolve().parents[2] / "gridcloud" / "enforcer" / "main.py"
#: The default profile's cap in the enforcer's own settings model (the one the program
#: writes; tests/enforcer/test_settings.py goes from the Plan itself), trimmed to two pools
#: with round prices for readable assertions.
SETTINGS = Settings(
    facility="atlas-gcp",
    amount=Decimal(25000),
    currency="USD",
    lag_hours=Decimal(6),
    restore_on_new_period=True,
    label="gridcloud-cap",
    timeout_seconds=540,
    clusters=(
        CappedCluster(
            shard="home",
            project="atlas-analysis-facility",
            location="us-central1-a",
            cluster="atlas-gcp",
            pools=(
                CappedPool("cpu", Decimal("0.75"), 0, 1250, "ANY"),
                CappedPool("gpu", Decimal("0.25"), 0, 16, "ANY"),
            ),
        ),
    ),
)


def period(months_from_now: int = 0) -> tuple[str, str]:
    """A period's costIntervalStart as Cloud Billing writes it (midnight Pacific: 08:00 UTC,
    07:00 in summer time, which runs from March's second Sunday to November's first) and the
    month it names."""
    today = datetime.now(UTC) - timedelta(hours=8)
    index = today.year * 12 + today.month - 1 + months_from_now
    year, month = divmod(index, 12)
    hour = 7 if 4 <= month + 1 <= 11 else 8
    return f"{year}-{month + 1:02d}-01T{hour:02d}:00:00Z", f"{year}-{month + 1:02d}"


def use_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """The function's environment, as the program sets it (read at every message)."""
    monkeypatch.setenv(SETTINGS_VAR, settings.to_json())


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
        absent = (
            "the Google Cloud SDK (gcloud, with its Pub/Sub emulator and Java) is not installed:"
            " https://cloud.google.com/sdk/docs/install, then `gcloud components install "
            "pubsub-emulator beta`"
        )
        missing(absent)
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
            # gcloud's own configuration and logs in the test's directory, not ~/.config/gcloud
            "CLOUDSDK_CONFIG": str(data / "gcloud-config"),
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
    """The home cluster."""
    clusters: list[FakeGke]
    """Every cluster the fake GKE API serves, the home one first: append a shard's."""
    outcomes: Outcomes
    publisher: Any
    topic: str
    url: str
    """The function, served by functions-framework."""

    def post(self, data: object) -> tuple[int, str]:
        """A CloudEvent of any data POSTed to the function (as Eventarc delivers, structured
        mode): the HTTP status and the outcome logged."""
        import requests

        event_id = f"direct-{uuid.uuid4()}"
        answer = requests.post(
            self.url,
            json={
                "specversion": "1.0",
                "type": "google.cloud.pubsub.topic.v1.messagePublished",
                "source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/{TOPIC}",
                "id": event_id,
                "datacontenttype": "application/json",
                "data": data,
            },
            headers={"Content-Type": "application/cloudevents+json"},
            timeout=60,
        )
        return answer.status_code, self.outcomes.outcome(event_id, timeout=5)

    def publish(self, data: bytes, **attributes: str) -> str:
        """Publish as Cloud Billing does; wait until the function handled it; its outcome."""
        message_id = self.publisher.publish(self.topic, data, **attributes).result(timeout=30)
        return self.outcomes.outcome(message_id)

    def notify(
        self,
        cost: str,
        *,
        start: str | None = None,
        budget_id: str = BUDGET_ID,
        exceeded: float | None = None,
        currency: str = "USD",
    ) -> str:
        body: dict[str, Any] = {
            "budgetDisplayName": "gridcloud atlas-gcp",
            "costAmount": float(cost),
            "costIntervalStart": start or period()[0],
            "budgetAmount": 25000.0,
            "budgetAmountType": "SPECIFIED_AMOUNT",
            "currencyCode": currency,
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
    use_settings(monkeypatch, SETTINGS)
    monkeypatch.setenv(BUDGET_VAR, BUDGET_ID)
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
        mock.add_passthru(f"http://127.0.0.1:{server.port}")
        mock.add(responses.POST, TOKEN_URL, json=TOKEN_ANSWER)
        clusters = [gke]
        serve_all(mock, clusters)
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
            yield Enforcer(
                gke=gke,
                clusters=clusters,
                outcomes=outcomes,
                publisher=publisher,
                topic=topic,
                url=f"http://127.0.0.1:{server.port}/",
            )
        finally:
            subscriber.delete_subscription(subscription=subscription)
            publisher.delete_topic(topic=topic)
            server.shutdown()
            thread.join()
            logger.removeHandler(outcomes)
            publisher.transport.close()
            subscriber.close()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The enforcer's pauses in milliseconds rather than seconds (the same backoff)."""
    from gridcloud.enforcer import gke

    monkeypatch.setattr(gke, "FIRST_RETRY_S", 0.01)
    monkeypatch.setattr(gke, "LONGEST_RETRY_S", 0.08)
    monkeypatch.setattr(gke, "FIRST_POLL_S", 0.01)
    monkeypatch.setattr(gke, "LONGEST_POLL_S", 0.05)
