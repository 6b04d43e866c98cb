"""What a requester hears of their help request: each change, queued in the change's unit of work.

A status change, someone handling it and a reply from the Bureau each reach the requester's
personal chat through the outbox (`services.outbox`), never straight to Teams. The notice names
no one at the Bureau; a reply's text is the only free text, and it goes into the outbox sealed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from services.help_requests import HelpRequest, HelpRequestUnitOfWork
from services.outbox import MessageKind, Recipient, queue_message

TEMPLATE = "help_request_notice"


class NoticeEvent(StrEnum):
    STATUS = "status"  # the Bureau set another status
    CLAIMED = "claimed"  # someone at the Bureau handles it now
    ASSIGNED = "assigned"  # passed on to a colleague
    REPLY = "reply"  # a message from the Bureau


def notice_key(request_id: int) -> str:
    """The prefix every notice of this request is queued under."""
    return f"help-request:{request_id}:notice:"


async def notify_requester(
    uow: HelpRequestUnitOfWork,
    request: HelpRequest,
    event: NoticeEvent,
    *,
    now: datetime,
    reply_id: int | None = None,
    reply_text: str | None = None,
) -> None:
    """Queue the requester's notice of this change (a reply is sent at once, the rest by day)."""
    data: dict[str, object] = {
        "request": request.id,
        "event": event.value,
        "status": request.status.value,
        "open": request.status.is_open,
    }
    if event is NoticeEvent.REPLY:
        # Once per stored reply; its text is the only free text a notice carries.
        key = f"{notice_key(request.id)}reply:{reply_id}"
        kind = MessageKind.URGENT
        data["text"] = reply_text or ""
    else:
        # Once per change: a second change to the same value is a later moment.
        key = f"{notice_key(request.id)}{event.value}:{request.status.value}:{now.isoformat()}"
        kind = MessageKind.NOTICE
    await queue_message(
        uow=uow,
        to=Recipient.person(request.requester.id),
        kind=kind,
        template=TEMPLATE,
        data=data,
        key=key,
        private=("text",) if event is NoticeEvent.REPLY else (),
    )
