"""The Cloud Function: ``on_budget_notification``, on the budget's topic (Eventarc delivers a
``google.cloud.pubsub.topic.v1.messagePublished`` CloudEvent).

Every outcome returns normally, so the message is acknowledged, whatever its shape: a
malformed message, another budget's, one refused (another currency, a period not begun) is
logged and dropped (retrying cannot fix it); a GKE change still refused at the handler's
deadline is logged and left to the next notification, which re-asserts the cap (Cloud
Billing sends several a day; the trigger does not retry, so a failure cannot become a retry
storm).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import functions_framework

from gridcloud.enforcer.config import Settings, SettingsError
from gridcloud.enforcer.decide import MalformedError, decide, parse, screen
from gridcloud.enforcer.gke import Deadline, DeadlineError, Gke

log = logging.getLogger("gridcloud.enforcer")
log.setLevel(logging.INFO)  # every decision is logged (Cloud Logging keeps the function's log)
logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")


def _message(event_data: object) -> Mapping[str, Any]:
    message = event_data.get("message") if isinstance(event_data, Mapping) else None
    return message if isinstance(message, Mapping) else {}


def handle(
    event_data: object,
    settings: Settings,
    now: datetime | None = None,
    deadline: Deadline | None = None,
) -> str:
    """One notification: what was done, as logged."""
    deadline = deadline or Deadline.for_function(settings.timeout_seconds)
    message = _message(event_data)
    message_id = str(message.get("messageId", "?"))[:64]
    try:
        note = parse(message.get("data"), message.get("attributes"))
    except MalformedError as error:
        log.error("ignored a malformed message %s: %s", message_id, error)
        return "malformed"
    if note.budget_id != settings.budget_id:
        log.info("ignored budget %s: not this facility's (%s)", note.budget_id, settings.budget_id)
        return "other budget"
    verdict = screen(note, settings, now or datetime.now(UTC))
    if verdict.outcome == "refuse":
        log.warning("message %s %s", message_id, verdict.reason)
        return "refused"
    if verdict.outcome == "ignore":
        log.info("%s", verdict.reason)
        return "nothing"
    try:
        gke = Gke(settings, deadline)
        # the running nodes count only where a cap may begin: none in force, or a new period
        view = gke.read(nodes=lambda capped: capped is None or note.period > capped)
        capped = view.capped
        decision = decide(note, settings, capped=capped, nodes=view.nodes)
        log.info("%s: %s", decision.action, decision.reason)
        if decision.action == "cap":
            gke.cap(note.period)
            log.warning(
                "cap in force for %s: elastic pools of %s at zero in %d clusters; the control "
                "node and the services keep running",
                note.period,
                settings.facility,
                len(settings.clusters),
            )
        elif decision.action == "reassert":
            assert capped is not None
            repaired = gke.cap(capped)
            if not repaired:
                return "nothing"
            log.warning("cap in force for %s re-asserted: %d changes", capped, repaired)
            return "repaired"
        elif decision.action == "lift":
            gke.lift()
            log.warning("cap lifted for %s: autoscaling restored", note.period)
        return decision.action
    except DeadlineError as error:
        log.error("%s; the cap is not complete: the next notification re-asserts it", error)
        return "failed"
    except Exception:  # the boundary: log, acknowledge, let the next notification retry
        log.exception("acting on the notification failed; the next one tries again")
        return "failed"


@functions_framework.cloud_event
def on_budget_notification(cloud_event: Any) -> None:
    try:
        settings = Settings.from_environment()
    except SettingsError as error:
        # deployed with settings this code cannot read: no notification can be acted on
        log.critical("the enforcer's settings cannot be read, the cap cannot act: %s", error)
        outcome = "misconfigured"
    else:
        outcome = handle(cloud_event.data, settings)
    log.info("message %s: %s", cloud_event["id"], outcome)
