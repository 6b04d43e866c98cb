"""Service levels for help requests: claimed within two working days, closed within ten.

A request past a deadline is raised again in the Bureau's channel, at most once per period: the
database notes each reminder with a conditional update, so instances that plan at the same moment
send it once. A period later, a request that is still overdue is raised again.

Working days are Monday to Friday in UTC; public holidays count as working days (the Bureau has
not said which ones it keeps).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.help_request_channel import channel_post_key, has_channel_post
from services.help_requests import (
    AuditAction,
    AuditEntry,
    HelpRequest,
    HelpRequestUnitOfWork,
    SlaPeriod,
)
from services.outbox import MessageKind, Recipient, queue_message

REMINDER_TEMPLATE = "help_request_reminder"  # content/messages

SATURDAY = 5


@dataclass(frozen=True)
class SlaSettings:
    claim_working_days: int = 2
    close_working_days: int = 10

    def working_days(self, period: SlaPeriod) -> int:
        return self.claim_working_days if period is SlaPeriod.CLAIM else self.close_working_days


def working_days_before(moment: datetime, days: int) -> datetime:
    """The moment `days` working days before `moment`; weekend time does not count."""
    if moment.weekday() >= SATURDAY:  # in a weekend, the clock stopped at Friday midnight
        moment = (moment - timedelta(days=moment.weekday() - SATURDAY)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    for _ in range(days):
        moment -= timedelta(days=1)
        while moment.weekday() >= SATURDAY:
            moment -= timedelta(days=1)
    return moment


# Adds the reminder's message (an outbox row) inside the unit of work that notes the reminder.
QueueReminder = Callable[[HelpRequestUnitOfWork, HelpRequest, SlaPeriod], Awaitable[None]]


async def remind_overdue(
    *,
    uow: HelpRequestUnitOfWork,
    sla: SlaSettings,
    now: datetime,
    queue: QueueReminder,
) -> list[tuple[int, SlaPeriod]]:
    """Raise every overdue request once for this period; return what was raised.

    Each reminder commits on its own, so a failure later in the run loses none before it.
    """
    raised: list[tuple[int, SlaPeriod]] = []
    for period in SlaPeriod:
        cutoff = working_days_before(now, sla.working_days(period))
        due = await uow.help_requests.due_for_reminder(
            period, created_before=cutoff, reminded_before=cutoff
        )
        for request in due:
            if not await uow.help_requests.mark_reminded(
                request.id, period, now=now, reminded_before=cutoff
            ):
                continue  # another instance raised it just now
            await uow.help_requests.add_audit(
                AuditEntry(
                    request_id=request.id,
                    actor_id=None,
                    action=AuditAction.REMINDED,
                    from_value=None,
                    to_value=period.value,
                    at=now,
                )
            )
            await queue(uow, request, period)
            await uow.commit()
            raised.append((request.id, period))
    return raised


async def remind_in_channel(
    *, uow: HelpRequestUnitOfWork, sla: SlaSettings, now: datetime
) -> list[tuple[int, SlaPeriod]]:
    """Raise every overdue request in the thread of its card in the Bureau's channel.

    The periodic job (bot/jobs.py). A request that has no card (no channel was set when it came
    in, and none was linked since) is noted as reminded all the same, without a message.
    """

    async def in_thread(
        uow: HelpRequestUnitOfWork, request: HelpRequest, period: SlaPeriod
    ) -> None:
        if not await has_channel_post(uow, request.id):
            return
        await queue_message(
            uow=uow,
            to=Recipient.reply_to(channel_post_key(request.id)),
            kind=MessageKind.BUREAU,
            template=REMINDER_TEMPLATE,
            data={"request": request.id, "period": period.value, "days": sla.working_days(period)},
            key=f"{channel_post_key(request.id)}:reminder:{period.value}:{now.isoformat()}",
        )

    return await remind_overdue(uow=uow, sla=sla, now=now, queue=in_thread)
