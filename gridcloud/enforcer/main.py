"""The Cloud Function: ``on_budget_notification``, on the budget's topic (Eventarc delivers a
``google.cloud.pubsub.topic.v1.messagePublished`` CloudEvent).

Every outcome returns normally, so the message is acknowledged: a malformed message or
another budget's is logged and dropped (retrying cannot fix it), and a failed GKE call is
logged and left to the next notification (Cloud Billing sends several a day; the trigger
does not retry, so a failure cannot become a retry storm).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import functions_framework

from gridcloud.enforcer.config import Settings
from gridcloud.enforcer.decide import MalformedError, decide, parse
from gridcloud.enforcer.gke import Gke

log = logging.getLogger("gridcloud.enforcer")
log.setLevel(logging.INFO)  # every decision is logged (Cloud Logging keeps the function's log)
logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")


def handle(event_data: Any, settings: Settings, now: datetime | None = None) -> str:
    """One notification: what was done, as logged."""
    message = (event_data or {}).get("message", {}) if isinstance(event_data, dict) else {}
    try:
        note = parse(message.get("data"), message.get("attributes"))
    except MalformedError as error:
        log.error("ignored a malformed message %s: %s", message.get("messageId", "?"), error)
        return "malformed"
    if note.budget_id != settings.budget_id:
        log.info("ignored budget %s: not this facility's (%s)", note.budget_id, settings.budget_id)
        return "other budget"
    gke = Gke(settings)
    try:
        cluster = gke.cluster()
        capped = gke.cap_in_force(cluster)
        nodes = gke.nodes(cluster) if capped is None or note.period != capped else {}
        decision = decide(note, settings, capped=capped, nodes=nodes, now=now or datetime.now(UTC))
        log.info("%s: %s", decision.action, decision.reason)
        if decision.action == "cap":
            for pool in settings.pools:
                gke.scale_to_zero(pool)
            gke.label(gke.cluster(), note.period)
            log.warning(
                "cap in force for %s: elastic pools of %s at zero; the control node and the "
                "services keep running",
                note.period,
                settings.facility,
            )
        elif decision.action == "lift":
            if not decision.restore:
                log.warning(
                    "new period %s below the cap; the pools stay at zero until "
                    "`gridcloud up --lift-cap` (budget.restoreOnNewPeriod is false)",
                    note.period,
                )
                return "nothing"
            for pool in settings.pools:
                gke.restore(pool)
            gke.label(gke.cluster(), None)
            log.warning("cap lifted for %s: autoscaling restored", note.period)
        return decision.action
    except Exception:  # the boundary: log, acknowledge, let the next notification retry
        log.exception("acting on the notification failed; the next one tries again")
        return "failed"


@functions_framework.cloud_event
def on_budget_notification(cloud_event: Any) -> None:
    outcome = handle(cloud_event.data, Settings.from_environment())
    log.info("message %s: %s", cloud_event["id"], outcome)
