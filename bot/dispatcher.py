"""The outbox dispatcher: sends what is due, within Teams' limits, once, from one instance.

Every instance runs one (started and stopped with the app). On PostgreSQL only the instance
holding an advisory lock sends (`SendingRole`), so the tenant-wide rate holds with any number of
instances; when it dies its connection closes, the lock is free, and another takes over. Leases
are the second guard: a message is claimed by one dispatcher (`FOR UPDATE SKIP LOCKED`), and
every outcome is written only while the lease is still held. A lease is always longer than a
send may take (`send_timeout` plus twice `lease_margin`, checked at start-up), and is renewed
right before the send, after every wait (a 429's pause, the pace), when a wait ate into it; a
send is cancelled at `send_timeout`, so the lease outlasts it and the writing of its outcome.
A message this dispatcher holds is never taken twice by it, even when its lease ran out while
it waited.

Limits: a tenant-wide rate as Teams counts it (bot/pacing.py: sends paced evenly by aiolimiter,
and a slot per message held until a second after its send ended, so no one-second window of
arrivals ever holds more than the rate), at most one message per `per_conversation_seconds` to a
conversation, and one message at a time per recipient in the order they were queued (the claim
takes only the first pending message of each recipient). A 429 pauses all sending for its
Retry-After; 412, 5xx and dropped connections are tried again after an exponential backoff with
jitter (tenacity's wait), up to `max_attempts`, then failed with the reason; 403 and 404 mark
the conversation unreachable until the person's next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    stop_after_attempt,
    wait_exponential,
    wait_exponential_jitter,
)

from bot.outbox_metrics import PAUSED_SECONDS, PAUSES, RETRIES, SENDING, SENDS, cause_of
from bot.pacing import TenantRate
from bot.sender import Failed, Outcome, RetryAfter, Sent, Unreachable
from bot.settings import OUTBOX_LEASE_MARGIN
from services.conversations import ConversationRecord, ConversationScope
from services.outbox import QUIET_HOURS_KINDS, REMINDER_KINDS, MessageKind, OutboxState
from services.quiet_hours import QuietHours
from storage.crypto import TextCipher
from storage.outbox import ClaimedMessage, SqlOutboxRepository
from storage.types import utcnow
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# The advisory lock the sending instance holds (8 bytes of "outbox" plus a version).
SENDING_LOCK_KEY = int.from_bytes(b"outbox01", "big") - (1 << 63)
ROLE_CHECK_SECONDS = 5.0
OPENER_TTL_SECONDS = 60.0
MAX_BATCH = 500
CLAIM_SECONDS = 0.2  # with messages in flight, claim at most this often unless there is room
WRITE_ATTEMPTS = 4  # an outcome not written means the message is sent again after its lease
KNOWN_KINDS = frozenset(kind.value for kind in MessageKind)


class Sender(Protocol):
    async def send(
        self, message: ClaimedMessage, *, opener: ConversationRecord | None = None
    ) -> Outcome: ...


@dataclass(frozen=True, kw_only=True)
class DispatchLimits:
    rate_per_second: float = 20.0
    per_conversation_seconds: float = 1.0
    max_attempts: int = 6
    send_timeout: float = 30.0
    lease_seconds: float = 120.0
    poll_seconds: float = 1.0
    backoff_initial: float = 2.0
    backoff_max: float = 900.0
    # How much longer than a send a lease must last: covers the clocks of two instances
    # differing a little, and the writes around a send.
    lease_margin: float = OUTBOX_LEASE_MARGIN

    def __post_init__(self) -> None:
        if self.rate_per_second <= 0:
            raise ValueError("the rate must be above zero")
        if self.lease_seconds < self.send_timeout + 2 * self.lease_margin:
            raise ValueError("a lease must last longer than a send can take")

    @property
    def batch(self) -> int:
        return max(1, min(MAX_BATCH, int(self.rate_per_second * 2)))


# While dispatch rounds keep failing, one in this many is logged (about one a minute).
FAILURES_PER_LOG = 60


class SendingRole:
    """Whether this instance may send: always on SQLite, under an advisory lock on PostgreSQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._checked = 0.0

    @property
    def shared(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    async def hold(self) -> bool:
        """Take or keep the role; False while another instance has it."""
        if not self.shared:
            return True
        if self._connection is not None:
            if time.monotonic() - self._checked < ROLE_CHECK_SECONDS:
                return True
            try:
                await self._connection.execute(text("SELECT 1"))
                self._checked = time.monotonic()
                return True
            except Exception:
                log.warning("outbox: lost the connection holding the sending role")
                await self._drop()
                return False
        connection = await self._engine.connect()
        try:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            held = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": SENDING_LOCK_KEY}
            )
        except BaseException:
            await connection.close()
            raise
        if not held:
            await connection.close()
            return False
        self._connection, self._checked = connection, time.monotonic()
        log.info("outbox: this instance sends")
        return True

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": SENDING_LOCK_KEY}
                )
            await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()


@dataclass
class DispatchCounts:
    """What this dispatcher did since it started, by outcome (for the CLI, and on /metrics)."""

    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: str, n: int = 1) -> None:
        self.outcomes[outcome] += n
        SENDS.labels(outcome).inc(n)


class Dispatcher:
    """Takes due outbox messages with a lease and sends them within the limits."""

    def __init__(
        self,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        sender: Sender,
        *,
        limits: DispatchLimits | None = None,
        quiet_hours: QuietHours | None = None,
        tenant_id: str | None = None,
        owner: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        cipher: TextCipher | None = None,
    ) -> None:
        self.limits = limits or DispatchLimits()
        self.quiet_hours = quiet_hours or QuietHours()
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"
        self.counts = DispatchCounts()
        self.role = SendingRole(engine)
        self._session_factory = session_factory
        self._cipher = cipher  # opens the messages' private fields when they are claimed
        self._sender = sender
        self._tenant_id = tenant_id
        self._clock = clock
        self.rate = TenantRate(self.limits.rate_per_second)
        self._paused_until = 0.0  # monotonic; a 429 pauses every send until then
        self._last_sent: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._opener: tuple[float, ConversationRecord | None] | None = None
        self._backoff = wait_exponential_jitter(
            multiplier=self.limits.backoff_initial, max=self.limits.backoff_max, jitter=1
        )
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._outcomes: list[tuple[ClaimedMessage, Outcome]] = []
        self._in_hand: set[int] = set()  # messages a task of this dispatcher is handling
        self._writer: asyncio.Task[None] | None = None

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background until `stop`."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        """Stop claiming, let messages in flight finish, release the role."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, self.limits.send_timeout + self.limits.lease_margin)
            except TimeoutError:
                log.warning("outbox: dispatcher did not stop in time; its leases will expire")
        await self.role.release()
        SENDING.set(0)

    async def run(self) -> None:
        """Send what is due, again and again, while this instance holds the sending role."""
        failures = 0  # rounds in a row that failed (the database is down, say)
        while not self._stopping.is_set():
            try:
                held = await self.role.hold()
                SENDING.set(1 if held else 0)
                sent = await self.run_once() if held else 0
            except Exception:
                failures += 1
                # The first failure, then one line in FAILURES_PER_LOG: a round a second would
                # otherwise fill the log for as long as the outage lasts.
                if failures % FAILURES_PER_LOG == 1:
                    log.exception(
                        "outbox: dispatch round failed (%d in a row); trying again", failures
                    )
                sent = 0
            else:
                if failures:
                    log.info("outbox: dispatch works again after %d failed rounds", failures)
                failures = 0
            if sent == 0:
                await self._sleep(self.limits.poll_seconds)

    async def run_once(self) -> int:
        """Send everything due now (later messages of a recipient included); how many finished."""
        in_flight: set[asyncio.Task[None]] = set()
        finished = 0
        claimed_at = -CLAIM_SECONDS
        try:
            while True:
                room = self.limits.batch - len(in_flight)
                # Claim when a quarter of the batch is free, or now and then for what became
                # due: not after every send (a claim is a few queries).
                claim = room > 0 and (
                    room * 4 >= self.limits.batch or time.monotonic() - claimed_at >= CLAIM_SECONDS
                )
                claimed = []
                if claim and not self._stopping.is_set():
                    claimed, claimed_at = await self._claim(room), time.monotonic()
                for message in claimed:
                    if message.id in self._in_hand:
                        continue  # its lease ran out while it waited here: still ours to send
                    self._in_hand.add(message.id)
                    in_flight.add(asyncio.create_task(self._deliver(message)))
                if not in_flight:
                    if not await self._flush():
                        return finished
                    continue  # what was written may let a recipient's next message go
                done, in_flight = await asyncio.wait(
                    in_flight, timeout=0.2, return_when=asyncio.FIRST_COMPLETED
                )
                finished += len(done)
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            await self._flush()

    # -- one message -----------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[ClaimedMessage]:
        async with UnitOfWork(self._session_factory, cipher=self._cipher) as uow:
            claimed = await uow.outbox.claim(
                owner=self.owner,
                now=self._clock(),
                lease=timedelta(seconds=self.limits.lease_seconds),
                limit=limit,
            )
            await uow.commit()
        return claimed

    async def _deliver(self, message: ClaimedMessage) -> None:
        try:
            await self._deliver_one(message)
        except Exception:
            # Left leased: it is taken again when the lease expires.
            log.exception("outbox: message %s could not be handled", message.id)
        finally:
            self._in_hand.discard(message.id)

    async def _deliver_one(self, message: ClaimedMessage) -> None:
        if message.kind not in KNOWN_KINDS:
            await self._finish(message, Failed("unknown kind"))
            return
        if message.unreadable:  # its private text: no configured key opens it any more
            await self._finish(message, Failed("private data unreadable"))
            return
        kind = MessageKind(message.kind)
        if kind in REMINDER_KINDS and not message.reminders_on:
            await self._finish(message, OutboxState.SKIPPED, "reminders off", counts=False)
            return
        now = self._clock()
        if kind in QUIET_HOURS_KINDS and self.quiet_hours.is_quiet(now):
            async with UnitOfWork(self._session_factory) as uow:
                await uow.outbox.defer(
                    message.id, owner=self.owner, until=self.quiet_hours.next_allowed(now)
                )
                await uow.commit()
            self.counts.add("deferred")
            return
        if not await self._wait_turn(message):
            await self._release(message)
            return
        await self.rate.pace()
        if not await self._wait_for_pause():
            await self._release(message)
            return
        opener = await self._opener_for(message)
        async with self.rate.slot():
            # Last, after every wait (a 429 may have come while this waited for a slot): the
            # lease must cover the whole send and the writing of its outcome.
            if not await self._wait_for_pause() or not await self._keep_lease(message):
                await self._release(message)
                return
            try:
                async with asyncio.timeout(self.limits.send_timeout):
                    outcome = await self._sender.send(message, opener=opener)
            except TimeoutError:
                outcome = RetryAfter("timeout")
        self._last_sent[message.recipient] = time.monotonic()
        self._last_sent.move_to_end(message.recipient)
        while len(self._last_sent) > 100_000:
            self._last_sent.popitem(last=False)
        await self._record(message, outcome)

    async def _wait_turn(self, message: ClaimedMessage) -> bool:
        """Wait until this conversation may get another message; False when stopping."""
        last = self._last_sent.get(message.recipient)
        if last is None:
            return not self._stopping.is_set()
        wait = last + self.limits.per_conversation_seconds - time.monotonic()
        return await self._sleep(wait) if wait > 0 else not self._stopping.is_set()

    async def _wait_for_pause(self) -> bool:
        while (wait := self._paused_until - time.monotonic()) > 0:
            if not await self._sleep(wait):
                return False
        return not self._stopping.is_set()

    async def _keep_lease(self, message: ClaimedMessage) -> bool:
        left = (message.lease_until - self._clock()).total_seconds()
        if left > self.limits.send_timeout + self.limits.lease_margin:
            return True
        async with UnitOfWork(self._session_factory) as uow:
            kept = await uow.outbox.renew(
                message.id,
                owner=self.owner,
                until=self._clock() + timedelta(seconds=self.limits.lease_seconds),
            )
            await uow.commit()
        if not kept:
            log.warning("outbox: lost the lease on message %s before sending it", message.id)
        return kept

    async def _opener_for(self, message: ClaimedMessage) -> ConversationRecord | None:
        if message.reference is not None or message.scope != ConversationScope.PERSONAL:
            return None
        if self._opener is not None and time.monotonic() - self._opener[0] < OPENER_TTL_SECONDS:
            return self._opener[1]
        async with UnitOfWork(self._session_factory) as uow:
            opener = await uow.outbox.any_reference(self._tenant_id)
        self._opener = (time.monotonic(), opener)
        return opener

    async def _record(self, message: ClaimedMessage, outcome: Outcome) -> None:
        """Queue the outcome for writing; outcomes that come in meanwhile share a transaction.

        The message stays leased until its outcome is written, so nobody takes it again and
        the recipient's next message waits for it.
        """
        if isinstance(outcome, RetryAfter) and outcome.seconds is not None:
            # Throttled: every send waits, and this message goes first when the pause ends.
            now, until = time.monotonic(), time.monotonic() + outcome.seconds
            PAUSES.inc()
            PAUSED_SECONDS.inc(max(0.0, until - max(now, self._paused_until)))
            self._paused_until = max(self._paused_until, until)
            log.warning("outbox: throttled by Teams; pausing %.1f s", outcome.seconds)
        self._outcomes.append((message, outcome))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_outcomes())

    async def _flush(self) -> bool:
        """Wait until every outcome is written; whether there was anything to wait for."""
        waited = False
        while self._writer is not None and not self._writer.done():
            waited = True
            await asyncio.shield(self._writer)
        return waited

    async def _write_outcomes(self) -> None:
        # A commit can take a while on a busy server: one per batch, not one per message, and
        # sending goes on meanwhile.
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            try:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(WRITE_ATTEMPTS),
                    wait=wait_exponential(multiplier=0.5, max=5),
                    reraise=True,
                ):
                    with attempt:
                        async with UnitOfWork(self._session_factory) as uow:
                            await self._write_batch(uow, batch, self._clock())
                            await uow.commit()
            except Exception:
                # Still leased: the messages are taken again when their leases end.
                log.exception("outbox: %d outcomes could not be written", len(batch))

    async def _write_batch(
        self, uow: UnitOfWork, batch: list[tuple[ClaimedMessage, Outcome]], now: datetime
    ) -> None:
        plain_sent = [
            (message, outcome)
            for message, outcome in batch
            if isinstance(outcome, Sent) and outcome.new_reference is None
        ]
        if plain_sent:  # nearly all of them: one statement for the lot
            await uow.outbox.mark_sent_many(
                [(m.id, o.conversation_id, o.activity_id) for m, o in plain_sent],
                owner=self.owner,
                now=now,
            )
            self.counts.add("sent", len(plain_sent))
        for message, outcome in batch:
            if not (isinstance(outcome, Sent) and outcome.new_reference is None):
                await self._write(uow, message, outcome, now)

    async def _write(
        self, uow: UnitOfWork, message: ClaimedMessage, outcome: Outcome, now: datetime
    ) -> None:
        outbox = uow.outbox
        if isinstance(outcome, Sent):
            kept = await outbox.mark_sent(
                message.id,
                owner=self.owner,
                conversation_id=outcome.conversation_id,
                activity_id=outcome.activity_id,
                now=now,
            )
            if not kept:
                log.warning("outbox: message %s was sent after its lease ran out", message.id)
            if outcome.new_reference is not None:
                await uow.conversations.upsert(outcome.new_reference)
            self.counts.add("sent")
        elif isinstance(outcome, RetryAfter):
            await self._retry(outbox, message, outcome, now)
        elif isinstance(outcome, Unreachable):
            await outbox.mark_done(
                message.id, owner=self.owner, state=OutboxState.UNREACHABLE, reason=outcome.reason
            )
            if message.reference is not None and outcome.reason.startswith("http"):
                await outbox.mark_unreachable(scope=message.scope, owner=message.owner, now=now)
            self.counts.add("unreachable")
        else:
            await outbox.mark_done(
                message.id, owner=self.owner, state=OutboxState.FAILED, reason=outcome.reason
            )
            self.counts.add("failed")

    async def _retry(
        self,
        outbox: SqlOutboxRepository,
        message: ClaimedMessage,
        outcome: RetryAfter,
        now: datetime,
    ) -> None:
        if outcome.seconds is not None:
            await outbox.mark_retry(
                message.id,
                owner=self.owner,
                at=now + timedelta(seconds=outcome.seconds),
                reason=outcome.reason,
                counts=False,
            )
            self.counts.add("throttled")
            return
        attempt = message.attempts + 1
        if attempt >= self.limits.max_attempts:
            await outbox.mark_done(
                message.id, owner=self.owner, state=OutboxState.FAILED, reason=outcome.reason
            )
            self.counts.add("failed")
            return
        state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        state.attempt_number = attempt
        delay = self._backoff(state)
        await outbox.mark_retry(
            message.id, owner=self.owner, at=now + timedelta(seconds=delay), reason=outcome.reason
        )
        RETRIES.labels(cause_of(outcome.reason)).inc()
        self.counts.add("retried")

    async def _finish(
        self,
        message: ClaimedMessage,
        outcome: Failed | OutboxState,
        reason: str = "",
        *,
        counts: bool = True,
    ) -> None:
        if isinstance(outcome, Failed):
            await self._record(message, outcome)
            return
        async with UnitOfWork(self._session_factory) as uow:
            await uow.outbox.mark_done(
                message.id, owner=self.owner, state=outcome, reason=reason, counts=counts
            )
            await uow.commit()
        self.counts.add(outcome.value)

    async def _release(self, message: ClaimedMessage) -> None:
        async with UnitOfWork(self._session_factory) as uow:
            await uow.outbox.release(message.id, owner=self.owner)
            await uow.commit()

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, waking early when stopping; False when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, seconds))
        return not self._stopping.is_set()
