"""What the requester and the Bureau do with a help request, each in one unit of work.

Every function checks what it may, writes through the unit of work's repository (a change and
its audit row together), and commits. Who may act as the Bureau is decided in `bot/` before a
Bureau action is called; the requester's own actions check that the request is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.help_request_channel import CardTitles, queue_channel_post, queue_channel_update
from services.help_request_notices import NoticeEvent, notify_requester
from services.help_request_thread import post_answer_in_thread
from services.help_requests import (
    BUREAU_TRANSITIONS,
    MAX_DETAIL_TEXT,
    MAX_MESSAGE_TEXT,
    MAX_REQUEST_TEXT,
    MAX_TEAM_SIZE,
    AuditAction,
    AuditEntry,
    HelpRequest,
    HelpRequestUnitOfWork,
    Message,
    MessageKind,
    NewHelpRequest,
    Person,
    Status,
)
from services.input_text import lines_of


class Refusal(StrEnum):
    """Why an action changed nothing; the bot says it in the user's language."""

    NOT_FOUND = "not_found"
    NOT_YOURS = "not_yours"
    NOT_OPEN = "not_open"  # closed or withdrawn
    NOT_ALLOWED = "not_allowed"  # a status change that is not allowed from the current status
    CHANGED_MEANWHILE = "changed_meanwhile"  # someone else changed it just now
    EMPTY = "empty"
    TOO_LONG = "too_long"


class HelpRequestRefused(Exception):
    """An action that changed nothing, and why; never carries the request's text."""

    def __init__(self, reason: Refusal, request: HelpRequest | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.request = request


@dataclass(frozen=True)
class ClaimOutcome:
    """The request after a claim; `won` is False when someone else had it already."""

    request: HelpRequest
    won: bool

    @property
    def holder(self) -> Person | None:
        return self.request.claimed_by


def check_text(text: str, *, limit: int) -> str:
    """Return the text cleaned (`lines_of`), or refuse it when it is empty or longer than limit."""
    stripped = lines_of(text)
    if not stripped:
        raise HelpRequestRefused(Refusal.EMPTY)
    if len(stripped) > limit:
        raise HelpRequestRefused(Refusal.TOO_LONG)
    return stripped


def check_new_request(request: NewHelpRequest) -> None:
    """Refuse a request whose texts are empty or too long, or whose team size is impossible."""
    check_text(request.text, limit=MAX_REQUEST_TEXT)
    for value in request.details.values():
        if len(value) > MAX_DETAIL_TEXT:
            raise HelpRequestRefused(Refusal.TOO_LONG)
    if request.team_size is not None and not 1 <= request.team_size <= MAX_TEAM_SIZE:
        raise HelpRequestRefused(Refusal.NOT_ALLOWED)


async def submit(
    *,
    uow: HelpRequestUnitOfWork,
    request: NewHelpRequest,
    now: datetime,
    channel_id: str | None = None,
    titles: CardTitles | None = None,
) -> HelpRequest:
    """Store a confirmed request as new, with its audit row and its card for the Bureau's channel.

    Without a channel (none set, none linked) the request is kept and posted once one is linked.
    """
    check_new_request(request)
    request_id, new = await uow.help_requests.add(request, now=now)
    if not new:  # sent twice (a double press, a retried delivery): the first one stands
        return await _get(uow, request_id)
    await _audit(uow, request_id, request.requester.id, AuditAction.CREATED, None, Status.NEW, now)
    stored = await _get(uow, request_id)
    if channel_id:
        await queue_channel_post(
            uow=uow, request=stored, channel_id=channel_id, now=now, titles=titles or CardTitles()
        )
    await uow.commit()
    return stored


async def claim(
    *, uow: HelpRequestUnitOfWork, request_id: int, by: Person, now: datetime
) -> ClaimOutcome:
    """Claim a request for `by`; when two press at once, the database lets exactly one win."""
    before = await _get(uow, request_id)
    won = await uow.help_requests.claim(request_id, by=by, now=now)
    request = await _get(uow, request_id)
    if not won:
        if not request.status.is_open:
            raise HelpRequestRefused(Refusal.NOT_OPEN, request)
        return ClaimOutcome(request, won=False)
    await _audit(uow, request_id, by.id, AuditAction.CLAIMED, None, by.id, now)
    if request.status != before.status:  # claiming a new request puts it in progress
        await _audit(uow, request_id, by.id, AuditAction.STATUS, before.status, request.status, now)
    await notify_requester(uow, request, NoticeEvent.CLAIMED, now=now)
    await uow.commit()
    return ClaimOutcome(request, won=True)


async def assign(
    *, uow: HelpRequestUnitOfWork, request_id: int, actor: Person, to: Person, now: datetime
) -> HelpRequest:
    """Assign an open request to a colleague (which also claims it, if nobody had)."""
    current = await _open(uow, request_id)
    before = current.assigned_to.id if current.assigned_to else None
    if before == to.id:
        return current
    if not await uow.help_requests.assign(request_id, expected=before, to=to, now=now):
        raise HelpRequestRefused(Refusal.CHANGED_MEANWHILE, await _get(uow, request_id))
    await _audit(uow, request_id, actor.id, AuditAction.ASSIGNED, before, to.id, now)
    request = await _get(uow, request_id)
    # The requester hears that someone handles it, or that it was passed on; never who.
    event = NoticeEvent.CLAIMED if current.assigned_to is None else NoticeEvent.ASSIGNED
    await notify_requester(uow, request, event, now=now)
    await uow.commit()
    return request


async def change_status(
    *, uow: HelpRequestUnitOfWork, request_id: int, actor: Person, to: Status, now: datetime
) -> HelpRequest:
    """Set the status, if the Bureau may go there from the current one."""
    current = await _get(uow, request_id)
    if current.status == to:
        return current
    if to not in BUREAU_TRANSITIONS[current.status]:
        raise HelpRequestRefused(Refusal.NOT_ALLOWED, current)
    changed = await uow.help_requests.set_status(
        request_id, expected=current.status, to=to, now=now
    )
    if not changed:
        raise HelpRequestRefused(Refusal.CHANGED_MEANWHILE, await _get(uow, request_id))
    await _audit(uow, request_id, actor.id, AuditAction.STATUS, current.status, to, now)
    request = await _get(uow, request_id)
    await notify_requester(uow, request, NoticeEvent.STATUS, now=now)
    await uow.commit()
    return request


async def reply(
    *,
    uow: HelpRequestUnitOfWork,
    request_id: int,
    actor: Person,
    text: str,
    now: datetime,
    submission: str | None = None,
) -> HelpRequest:
    """Store the Bureau's reply to the requester and queue it to them (the bot relays it)."""
    request, message_id, body = await _add_message(
        uow, request_id, actor, MessageKind.REPLY, text, now, submission
    )
    if message_id is None:  # sent already: nothing is kept (not a second post in the thread)
        return request
    await notify_requester(
        uow, request, NoticeEvent.REPLY, now=now, reply_id=message_id, reply_text=body
    )
    await uow.commit()
    return request


async def note(
    *,
    uow: HelpRequestUnitOfWork,
    request_id: int,
    actor: Person,
    text: str,
    now: datetime,
    submission: str | None = None,
) -> HelpRequest:
    """Store an internal note of the Bureau; the requester never sees it."""
    request, message_id, _ = await _add_message(
        uow, request_id, actor, MessageKind.NOTE, text, now, submission
    )
    if message_id is not None:  # else kept already: nothing is kept (no second thread post)
        await uow.commit()
    return request


async def answer(
    *,
    uow: HelpRequestUnitOfWork,
    request_id: int,
    requester: Person,
    text: str,
    now: datetime,
    titles: CardTitles | None = None,
    submission: str | None = None,
) -> HelpRequest:
    """Store the requester's answer on their own open request, and post it in its thread.

    A request that waited for the requester is in progress again: the Bureau has its answer.
    """
    current = await _own_open(uow, request_id, requester)
    request, message_id, body = await _add_message(
        uow, request_id, requester, MessageKind.ANSWER, text, now, submission
    )
    if message_id is None:  # stored and posted already: nothing more is kept
        return request
    waiting = Status.WAITING_FOR_REQUESTER
    if current.status is waiting and await uow.help_requests.set_status(
        request_id, expected=waiting, to=Status.IN_PROGRESS, now=now
    ):
        await _audit(
            uow, request_id, requester.id, AuditAction.STATUS, waiting, Status.IN_PROGRESS, now
        )
        request = await _get(uow, request_id)
    await post_answer_in_thread(
        uow=uow,
        request=request,
        answer_id=message_id,
        text=body,
        now=now,
        titles=titles or CardTitles(),
    )
    await uow.commit()
    return request


async def withdraw(
    *,
    uow: HelpRequestUnitOfWork,
    request_id: int,
    requester: Person,
    now: datetime,
    titles: CardTitles | None = None,
) -> HelpRequest:
    """Withdraw the requester's own open request."""
    current = await _own_open(uow, request_id, requester)
    changed = await uow.help_requests.set_status(
        request_id, expected=current.status, to=Status.WITHDRAWN, now=now
    )
    if not changed:
        raise HelpRequestRefused(Refusal.CHANGED_MEANWHILE, await _get(uow, request_id))
    await _audit(
        uow, request_id, requester.id, AuditAction.WITHDRAWN, current.status, Status.WITHDRAWN, now
    )
    request = await _get(uow, request_id)
    # Everyone in the Bureau's channel sees it withdrawn, and its buttons gone.
    await queue_channel_update(
        uow=uow, request=request, now=now, titles=titles or CardTitles(), why="withdrawn"
    )
    await uow.commit()
    return request


async def my_requests(*, uow: HelpRequestUnitOfWork, requester_id: str) -> list[HelpRequest]:
    """The requester's own requests, newest first."""
    return await uow.help_requests.for_requester(requester_id)


async def my_request(
    *, uow: HelpRequestUnitOfWork, request_id: int, requester: Person
) -> tuple[HelpRequest, list[Message]]:
    """One of the requester's own requests, with the Bureau's replies and their answers.

    The Bureau's internal notes are never among them; someone else's request is not found.
    """
    request = await _get(uow, request_id)
    if request.requester.id != requester.id:
        raise HelpRequestRefused(Refusal.NOT_FOUND)
    messages = await uow.help_requests.messages(request_id)
    return request, [m for m in messages if m.kind is not MessageKind.NOTE]


async def _add_message(
    uow: HelpRequestUnitOfWork,
    request_id: int,
    author: Person,
    kind: MessageKind,
    text: str,
    now: datetime,
    submission: str | None = None,
) -> tuple[HelpRequest, int | None, str]:
    """Store a message and its audit row (not committed); the request, the message's id, body.

    The id is None when this submission (the key of the card it was sent from) is stored
    already: the same button pressed twice stores, and relays, one message.
    """
    body = check_text(text, limit=MAX_MESSAGE_TEXT)
    await _open(uow, request_id)
    author_of_record = None if kind is MessageKind.ANSWER else author
    message_id = await uow.help_requests.add_message(
        request_id, kind=kind, author=author_of_record, body=body, now=now, submission=submission
    )
    if message_id is None:
        return await _get(uow, request_id), None, body
    action = {
        MessageKind.REPLY: AuditAction.REPLIED,
        MessageKind.NOTE: AuditAction.NOTED,
        MessageKind.ANSWER: AuditAction.ANSWERED,
    }[kind]
    await _audit(uow, request_id, author.id, action, None, None, now)
    return await _get(uow, request_id), message_id, body


async def _get(uow: HelpRequestUnitOfWork, request_id: int) -> HelpRequest:
    request = await uow.help_requests.get(request_id)
    if request is None:
        raise HelpRequestRefused(Refusal.NOT_FOUND)
    return request


async def _open(uow: HelpRequestUnitOfWork, request_id: int) -> HelpRequest:
    request = await _get(uow, request_id)
    if not request.status.is_open:
        raise HelpRequestRefused(Refusal.NOT_OPEN, request)
    return request


async def _own_open(uow: HelpRequestUnitOfWork, request_id: int, requester: Person) -> HelpRequest:
    request = await _get(uow, request_id)
    if request.requester.id != requester.id:
        # Someone else's request: say nothing about it, not even its status.
        raise HelpRequestRefused(Refusal.NOT_FOUND)
    if not request.status.is_open:
        raise HelpRequestRefused(Refusal.NOT_OPEN, request)
    return request


async def _audit(
    uow: HelpRequestUnitOfWork,
    request_id: int,
    actor_id: str | None,
    action: AuditAction,
    from_value: str | None,
    to_value: str | None,
    now: datetime,
) -> None:
    await uow.help_requests.add_audit(
        AuditEntry(
            request_id=request_id,
            actor_id=actor_id,
            action=action,
            from_value=from_value,
            to_value=to_value,
            at=now,
        )
    )
