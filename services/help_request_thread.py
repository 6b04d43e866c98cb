"""The requester's answers in their request's thread in the Bureau's channel.

The answer is posted as a reply to the request's card (`channel_post_key`), its text sealed in
the outbox, and the card is updated (a request that waited for the requester is in progress
again). A request whose card was never posted (no channel was set when it was sent) gets its
card, with everything on it, when a Bureau member links a channel.
"""

from __future__ import annotations

from datetime import datetime

from services.help_request_channel import (
    CardTitles,
    channel_post_key,
    has_channel_post,
    queue_channel_update,
)
from services.help_requests import HelpRequest, HelpRequestUnitOfWork
from services.outbox import MessageKind, Recipient, queue_message

THREAD_ANSWER = "help_request_thread_answer"  # content/cards/help_request_thread_answer.json.j2


async def post_answer_in_thread(
    *,
    uow: HelpRequestUnitOfWork,
    request: HelpRequest,
    answer_id: int,
    text: str,
    now: datetime,
    titles: CardTitles,
) -> bool:
    """Queue the answer in the card's thread and the card's new state; False without a card."""
    if not await has_channel_post(uow, request.id):
        return False
    await queue_message(
        uow=uow,
        to=Recipient.reply_to(channel_post_key(request.id)),
        kind=MessageKind.BUREAU,
        template=THREAD_ANSWER,
        data={"request": request.id, "text": text},
        key=f"{channel_post_key(request.id)}:answer:{answer_id}",
        due=now,
        private=("text",),
    )
    await queue_channel_update(
        uow=uow, request=request, now=now, titles=titles, why=f"answered:{answer_id}"
    )
    return True
