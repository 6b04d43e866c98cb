"""The outbox's figures on /metrics: counts and ages only, never content, names or ids of people.

Two kinds (docs/operations.md has the table and the alerts):

- what this instance's dispatcher did (counters): messages by outcome, retries by cause, 429
  pauses and the seconds paused, and whether it holds the sending role;
- the state of the whole outbox (gauges), read from the database by the `outbox-figures`
  periodic job: messages by state, and how long the oldest due message has been waiting. Every
  instance shows the same figures: take `max`, not `sum`, over instances.
"""

from __future__ import annotations

from datetime import datetime

from bot import metrics
from services.outbox import OutboxState
from storage.uow import UnitOfWork

FIGURES_EVERY = 15.0  # seconds between reads of the outbox's state; Prometheus scrapes ~15-60 s
# What a dispatcher did with a message: sent; retried (412, 5xx, dropped, timed out: tried again
# after a backoff); throttled (429: tried again after Retry-After); unreachable (403, 404, never
# installed); failed (gave up, or could not render); skipped (reminders off); deferred (quiet
# hours).
OUTCOMES = ("sent", "retried", "throttled", "unreachable", "failed", "skipped", "deferred")
RETRY_STATUSES = frozenset({"0", "412", "500", "502", "503", "504"})

SENDS = metrics.counter(
    "outbox_sends",
    "Outbox messages this instance's dispatcher handled, by outcome: "
    "sent, retried, throttled, unreachable, failed, skipped, deferred",
    ["outcome"],
)
RETRIES = metrics.counter(
    "outbox_retries",
    "Sends tried again after a backoff, by cause: timeout, connection, or the HTTP status",
    ["cause"],
)
PAUSES = metrics.counter("outbox_pauses", "429 answers from Teams that paused all sending")
PAUSED_SECONDS = metrics.counter(
    "outbox_paused_seconds", "Seconds all sending was paused for Teams' Retry-After"
)
SENDING = metrics.gauge(
    "outbox_sending", "1 while this instance holds the sending role, else 0 (one at a time)"
)
MESSAGES = metrics.gauge(
    "outbox_messages",
    "Messages in the whole outbox by state (the same on every instance)",
    ["state"],
)
OLDEST_DUE = metrics.gauge(
    "outbox_oldest_due_seconds",
    "How long the oldest due message has been waiting to be sent, in seconds (0: none waiting)",
)

for _outcome in OUTCOMES:  # every series shows from the start, at 0
    SENDS.labels(_outcome)
for _state in OutboxState:
    MESSAGES.labels(_state.value)


def cause_of(reason: str) -> str:
    """A retry's reason as one of a few fixed causes (a label must not grow without end)."""
    if reason == "timeout":
        return "timeout"
    if reason.startswith("connection"):
        return "connection"
    status = reason.removeprefix("http ")
    return status if status in RETRY_STATUSES else "other"


async def refresh_outbox_figures(uow: UnitOfWork, now: datetime) -> None:
    """Read the outbox's state into the gauges (the `outbox-figures` periodic job)."""
    status = await uow.outbox.status(now=now)
    for state in OutboxState:
        MESSAGES.labels(state.value).set(status.by_state.get(state.value, 0))
    OLDEST_DUE.set(status.oldest_due_seconds or 0.0)
