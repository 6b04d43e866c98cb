"""The answer to /readyz: whether the database answers, asked at most about once a second.

Every load balancer probe used to run its own database check. Under a burst of probes (6,000 at
once) they queued for the pool, timed out, and a healthy instance reported itself unready. Now
one check runs at a time, every probe that arrives meanwhile waits for that one, and its answer
is kept for `max_age` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

MAX_AGE_SECONDS = 1.0


class Readiness:
    """A cached, shared readiness check."""

    def __init__(
        self, check: Callable[[], Awaitable[bool]], *, max_age: float = MAX_AGE_SECONDS
    ) -> None:
        self._check = check
        self._max_age = max_age
        self._answer: tuple[bool, float] | None = None
        self._running: asyncio.Future[bool] | None = None

    async def ready(self) -> bool:
        answer = self._answer
        if answer is not None and time.monotonic() - answer[1] < self._max_age:
            return answer[0]
        if self._running is None:
            self._running = asyncio.ensure_future(self._run())
        # Shielded: a probe that gives up (its client left) does not cancel the others' check.
        return await asyncio.shield(self._running)

    async def _run(self) -> bool:
        try:
            ready = await self._check()
        finally:
            self._running = None
        self._answer = (ready, time.monotonic())
        return ready
