"""A help request's card in the Bureau's channel: its outbox key and the data it renders from.

The card is posted once, when the request is submitted (in the submit's unit of work), under
`channel_post_key(id)`; replies in its thread go to `Recipient.reply_to(channel_post_key(id))`
and new states of the card to `Recipient.update_of(...)`. Everything the card shows comes from
`channel_card_data`, so the post, the updates through the outbox and the card the action router
answers with are the same card. What the requester typed and their name (`CHANNEL_PRIVATE`)
are sealed in the outbox and shown nowhere but this channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.help_requests import (
    BUREAU_TRANSITIONS,
    MAX_MESSAGE_TEXT,
    HelpRequest,
    HelpRequestUnitOfWork,
    Person,
    Status,
    new_submission,
)
from services.outbox import MessageKind, Recipient, queue_message

CHANNEL_CARD = "help_request_channel"  # content/cards/help_request_channel.json.j2
CHANNEL_PRIVATE = ("text", "details", "requester")
# Teams refreshes a card by itself for at most 60 listed users; others refresh it by hand.
MAX_REFRESH_USERS = 60

Titles = Mapping[str, Mapping[str, str]]  # an id -> its title per language


def _nobody() -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class CardTitles:
    """The toolkit's titles the card names themes and offers by, in every language.

    `known_viewers` gives the Bureau's Teams user ids known at the moment (the roster as this
    instance last read it), for a card built where no turn can ask Teams (the submit, the job).
    """

    themes: Titles = field(default_factory=dict)
    offers: Titles = field(default_factory=dict)
    known_viewers: Callable[[], Sequence[str]] = _nobody


def channel_post_key(request_id: int) -> str:
    """The outbox key of the request's card in the Bureau's channel."""
    return f"help-request:{request_id}:channel"


def channel_card_data(
    request: HelpRequest,
    *,
    now: datetime,
    titles: CardTitles,
    viewers: Sequence[str] = (),
    notice: str | None = None,
) -> dict[str, Any]:
    """The values the channel card renders from; `viewers`: the Bureau's Teams user ids (MRIs),
    whose view of the card Teams refreshes by itself."""
    return {
        "request": request.id,
        # The reply and note forms' key: pressed twice, they are kept (and relayed) once.
        "submission": new_submission(),
        "kind": request.kind.value,
        "theme": _title(titles.themes, request.theme),
        "priority": request.priority.value,
        "urgency": request.urgency.value,
        "directorate": request.directorate,
        "role": request.role.value,
        "contact": request.contact.value,
        "team_size": request.team_size,
        "age_days": max(0, (now.date() - request.created_at.date()).days),
        "status": request.status.value,
        "open": request.status.is_open,
        # In the order of the work: in progress, waiting, referred, closed.
        "transitions": [s.value for s in Status if s in BUREAU_TRANSITIONS[request.status]],
        "claimed_by": _name(request.claimed_by),
        "assigned_to": _name(request.assigned_to),
        "suggestions": [
            {
                "offer": _title(titles.offers, s.offer_id) or {"nl": s.offer_id, "en": s.offer_id},
                "reasons": sorted({answer for answer, _ in s.reasons}),
            }
            for s in request.suggestions
        ],
        "viewers": list(dict.fromkeys(viewers or titles.known_viewers()))[:MAX_REFRESH_USERS],
        "max": MAX_MESSAGE_TEXT,
        "notice": notice,
        # Private: sealed in the outbox, shown only in the Bureau's channel.
        "text": request.text,
        "details": dict(request.details),
        "requester": request.requester.name,
    }


async def has_channel_post(uow: HelpRequestUnitOfWork, request_id: int) -> bool:
    """Whether the request's card was queued for the channel (none while no channel was set)."""
    return await uow.outbox.recipient_of(channel_post_key(request_id)) is not None


async def queue_channel_post(
    *,
    uow: HelpRequestUnitOfWork,
    request: HelpRequest,
    channel_id: str,
    now: datetime,
    titles: CardTitles,
) -> bool:
    """Queue the request's card in the channel, once; False when it was queued before."""
    return await queue_message(
        uow=uow,
        to=Recipient.channel(channel_id),
        kind=MessageKind.BUREAU,
        template=CHANNEL_CARD,
        data=channel_card_data(request, now=now, titles=titles),
        key=channel_post_key(request.id),
        due=now,
        private=CHANNEL_PRIVATE,
    )


async def post_waiting(
    *, uow: HelpRequestUnitOfWork, channel_id: str, now: datetime, titles: CardTitles
) -> int:
    """Queue the card of every open request that has none yet (a channel was just linked)."""
    posted = 0
    for request in await uow.help_requests.open_requests():
        if await queue_channel_post(
            uow=uow, request=request, channel_id=channel_id, now=now, titles=titles
        ):
            posted += 1
    await uow.commit()
    return posted


async def queue_channel_update(
    *,
    uow: HelpRequestUnitOfWork,
    request: HelpRequest,
    now: datetime,
    titles: CardTitles,
    why: str,
) -> bool:
    """Queue the card's new state for everyone in the channel; False when it was never posted.

    `why` names the change (e.g. "withdrawn", "answered:3"): one update per change.
    """
    if not await has_channel_post(uow, request.id):
        return False
    return await queue_message(
        uow=uow,
        to=Recipient.update_of(channel_post_key(request.id)),
        kind=MessageKind.BUREAU,
        template=CHANNEL_CARD,
        data=channel_card_data(request, now=now, titles=titles),
        key=f"{channel_post_key(request.id)}:update:{why}",
        due=now,
        private=CHANNEL_PRIVATE,
    )


def _title(titles: Titles, id_: str | None) -> Mapping[str, str] | None:
    if id_ is None:
        return None
    return dict(titles.get(id_) or {"nl": id_, "en": id_})


def _name(person: Person | None) -> str | None:
    """The name to show ("" when Teams gave none: the card then says "a colleague")."""
    return None if person is None else person.name
