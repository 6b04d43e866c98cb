"""The figures `/metrics` shows in Prometheus' text format; other parts register theirs here.

A part that has figures to show (the outbox dispatcher's deliveries, for example) makes them with
`counter`, `gauge` or `histogram` at import time:

    DELIVERIES = metrics.counter("deliveries", "Messages the dispatcher sent", ["outcome"])

Every name gets the `wegwijzer_` prefix. Labels must come from a short fixed list (an outcome,
an activity type), never from a user, a conversation or a text: each value is a time series.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from botbuilder.core import Middleware, TurnContext
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

PREFIX = "wegwijzer_"
# One registry for the process: every app built in it (tests build many) adds to the same series.
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

# Turns are quick (docs/performance.md: p99 of 11 to 15 ms on a quiet machine); the buckets
# reach up to the 15 s a Teams invoke may take.
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)
ACTIVITY_TYPES = frozenset({"message", "invoke", "conversationUpdate", "installationUpdate"})


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """A counter named `wegwijzer_<name>_total` on /metrics."""
    return Counter(PREFIX + name, documentation, labels, registry=REGISTRY)


def gauge(name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
    """A gauge named `wegwijzer_<name>` on /metrics."""
    return Gauge(PREFIX + name, documentation, labels, registry=REGISTRY)


def histogram(
    name: str, documentation: str, labels: Sequence[str] = (), buckets: Sequence[float] = ()
) -> Histogram:
    """A histogram named `wegwijzer_<name>` on /metrics."""
    return Histogram(
        PREFIX + name,
        documentation,
        labels,
        registry=REGISTRY,
        buckets=buckets or Histogram.DEFAULT_BUCKETS,
    )


TURNS = counter(
    "turns",
    "Turns by activity type and outcome: ok, error (the user got the apology) or refused "
    "(not from an allowed tenant or channel)",
    ["type", "outcome"],
)
TURN_SECONDS = histogram(
    "turn_seconds", "Time from a turn's start to its end, replies included", ["type"], TURN_BUCKETS
)
ERRORS = counter(
    "errors", "Failures by where they happened and the exception's class", ["where", "kind"]
)
REQUESTS_REFUSED = counter(
    "requests_refused",
    "Requests to /api/messages refused before any turn, by HTTP status",
    ["status"],
)


PASSED = "wegwijzer.metrics.passed"


class TurnMetrics(Middleware):
    """Counts every turn by outcome and times it. The first middleware, so it sees every turn;
    `PassedGuards`, put after the guards, tells it which turns they let through."""

    def __init__(self) -> None:
        # The series of each activity type, looked up once: `labels()` costs as much as `inc()`.
        self._series = {
            kind: (
                TURNS.labels(kind, "ok"),
                TURNS.labels(kind, "refused"),
                TURNS.labels(kind, "error"),
                TURN_SECONDS.labels(kind),
            )
            for kind in (*ACTIVITY_TYPES, "other")
        }

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        ok, refused, failed, seconds = self._series.get(
            context.activity.type, self._series["other"]
        )
        started = time.perf_counter()
        try:
            await logic()
        except Exception as error:
            failed.inc()
            ERRORS.labels("turn", type(error).__name__).inc()
            raise
        else:
            (ok if context.turn_state.get(PASSED) else refused).inc()
        finally:
            seconds.observe(time.perf_counter() - started)


class PassedGuards(Middleware):
    """Marks a turn that every guard before it let through, for `TurnMetrics`."""

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        context.turn_state[PASSED] = True
        await logic()


async def serve_metrics(_: web.Request) -> web.Response:
    """GET /metrics: every registered figure in Prometheus' text format."""
    response = web.Response(body=generate_latest(REGISTRY))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
