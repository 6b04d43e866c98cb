"""A circuit breaker for the database: when it is away, say so at once instead of waiting.

With PostgreSQL accepting connections but never answering, every turn waited 10 to 20 seconds,
past the 15 seconds Teams waits, and Teams' retries piled up more. Each guarded call now has a
time limit, and after `threshold` calls in a row failed because the database did not answer (a
timeout, a refused or dropped connection), the breaker opens: calls fail at once with
`DatabaseUnavailable` for `cooldown` seconds. Then one call may try (half-open); if it succeeds
the breaker closes, and if not it stays open for another `cooldown`. It recovers by itself.

Errors that say nothing about the database being away (an eTag conflict, a constraint, bad
data) pass through unchanged and neither open nor close it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import Pool

log = logging.getLogger(__name__)

CALL_TIMEOUT_SECONDS = 5.0  # a guarded call taking longer has failed
FAILURES_TO_OPEN = 3
COOLDOWN_SECONDS = 5.0

# What a database that is away (down, hung, unreachable, out of connections) raises.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
)


class DatabaseUnavailable(Exception):
    """The database did not answer (or has not lately): the turn should say "try again soon"."""


class Breaker:
    """Counts the database's failures to answer; refuses calls at once while it is away."""

    def __init__(
        self,
        *,
        call_timeout: float = CALL_TIMEOUT_SECONDS,
        threshold: int = FAILURES_TO_OPEN,
        cooldown: float = COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.call_timeout = call_timeout
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trying = False  # half-open: one call is finding out whether it is back

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def _admit(self) -> bool:
        """Whether a call may go to the database now; True makes it the trial when half-open."""
        if self._opened_at is None:
            return True
        if self._trying or self._clock() - self._opened_at < self.cooldown:
            return False
        self._trying = True
        return True

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Run the block against the database, within the time limit, or refuse it at once."""
        if not self._admit():
            raise DatabaseUnavailable("the database is not answering (breaker open)")
        trial = self._trying
        try:
            async with asyncio.timeout(self.call_timeout):
                yield
        except UNAVAILABLE as error:
            self._failed(trial)
            raise DatabaseUnavailable(f"the database did not answer: {type(error).__name__}") from (
                error
            )
        except BaseException:
            if trial:
                self._trying = False  # no verdict: the next call may try again
            raise
        self._succeeded()

    def _failed(self, trial: bool) -> None:
        self._trying = False
        self._failures += 1
        if trial or self._failures >= self.threshold:
            if self._opened_at is None:
                log.warning("database not answering: refusing turns for %.0f s", self.cooldown)
            self._opened_at = self._clock()

    def _succeeded(self) -> None:
        if self._opened_at is not None:
            log.warning("database answering again")
        self._failures = 0
        self._opened_at = None
        self._trying = False


_BREAKERS: weakref.WeakKeyDictionary[Pool, Breaker] = weakref.WeakKeyDictionary()


def breaker_for(engine: AsyncEngine) -> Breaker:
    """The one breaker of this engine's database, made on first use."""
    breaker = _BREAKERS.get(engine.pool)
    if breaker is None:
        breaker = _BREAKERS[engine.pool] = Breaker()
    return breaker
