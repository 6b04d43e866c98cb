"""Teams' tenant-wide rate, held the way Teams counts it: messages arriving in any one second.

Two parts, one for the pace and one for the guarantee:

- aiolimiter paces the starts of the sends evenly at the rate (its bucket holds a tenth of a
  second's worth, so a loop that wakes a little late catches up instead of falling behind);
- a slot per message caps what may reach Teams: a message takes one of `rate` slots before its
  send starts and gives it back one second after its send ended (answered, failed or timed
  out). Teams sees the message arrive somewhere between the start and the end of the send, so
  however the network or a busy event loop bunches arrivals, no one-second window of arrivals
  holds more than `rate` messages: if it held one more, all of their slots would have been
  taken at the moment of the last arrival.

The cost is the time a send takes: a slot is busy for a second plus the send's round trip, so
with round trips of 10 to 30 ms the rate reached is 97 to 99% of the limit (docs/operations.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiolimiter import AsyncLimiter

WINDOW = 1.0  # Teams counts messages per second
# A slot comes back this much later than the second itself: covers a timer firing early by the
# clock's resolution, nothing more (each millisecond here costs 0.1% of the rate).
WINDOW_MARGIN = 0.005


class TenantRate:
    """At most `rate` sends start per second, evenly, and at most `rate` arrive in any second."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("the rate must be above zero")
        burst = max(1.0, rate / 10)
        self._pace = AsyncLimiter(burst, burst / rate)
        self.limit = max(1, int(rate * WINDOW))
        self._slots = asyncio.Semaphore(self.limit)
        self.in_flight = 0  # sends started and not yet ended

    async def pace(self) -> None:
        """Wait for this send's turn in the even pace."""
        await self._pace.acquire()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot around one send: taken before it starts, back a second after it ends."""
        await self._slots.acquire()
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            asyncio.get_running_loop().call_later(WINDOW + WINDOW_MARGIN, self._slots.release)
