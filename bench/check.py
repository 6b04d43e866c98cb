"""Before the load: walk the scenario once as one user and look at what reached the connector."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.processes import get_json, post_json
from bench.scenario import STEPS, fill, template

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# What the last two turns must show, so the benchmark measures real answers and not errors.
EXPECTED_HEADINGS = {"format": "Dit past bij jou", "question": "Dit vond ik bij je vraag"}
SHOWN_CHARS = 60


@dataclass
class TurnSeen:
    """One turn of the walk: the bot's HTTP status and a one-line view of each reply."""

    step: str
    status: int
    replies: list[str] = field(default_factory=list)
    problem: str | None = None


def _texts(elements: list[Any]) -> Iterator[str]:
    for element in elements:
        if not isinstance(element, dict):
            continue
        if element.get("type") == "TextBlock" and isinstance(element.get("text"), str):
            yield element["text"]
        for key in ("items", "columns"):
            yield from _texts(element.get(key) or [])


def describe(activity: dict[str, Any]) -> str:
    """A reply in one line: its type, its text or its card's first line and button count."""
    kind = str(activity.get("type"))
    parts = [kind]
    if activity.get("text"):
        parts.append(repr(str(activity["text"])[:SHOWN_CHARS]))
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") != ADAPTIVE_CARD:
            parts.append(f"attachment {attachment.get('contentType')}")
            continue
        card = attachment.get("content") or {}
        heading = next(_texts(card.get("body") or []), "")
        parts.append(f"card {heading[:SHOWN_CHARS]!r} ({len(card.get('actions') or [])} actions)")
    return " ".join(parts)


def _heading_problem(step: str, replies: list[dict[str, Any]]) -> str | None:
    expected = EXPECTED_HEADINGS.get(step)
    if expected is None:
        return None
    for reply in replies:
        for attachment in reply.get("attachments") or []:
            body = (attachment.get("content") or {}).get("body") or []
            if next(_texts(body), None) == expected:
                return None
    return f"expected a card headed {expected!r}"


async def walk_scenario(
    http: aiohttp.ClientSession, *, bot_url: str, connector_url: str, service_url: str
) -> list[TurnSeen]:
    """Send the scenario's turns for one user (run 0, outside wrk's users) and see each reply."""
    seen: list[TurnSeen] = []
    for number, step in enumerate(STEPS):
        await post_json(http, connector_url + "/bench/reset")
        body = fill(
            template(service_url, step),
            activity_id=f"bench-check-{number}",
            aad="00000000-0000-4000-8000-000000000000",
            conversation="a:bench-check",
        )
        async with http.post(
            bot_url + "/api/messages", data=body, headers={"Content-Type": "application/json"}
        ) as response:
            status = response.status
        replies: list[dict[str, Any]] = await get_json(http, connector_url + "/bench/last")
        turn = TurnSeen(step.name, status, [describe(reply) for reply in replies])
        messages = [reply for reply in replies if reply.get("type") == "message"]
        if not 200 <= status < 300:
            turn.problem = f"HTTP {status}"
        elif not messages:
            turn.problem = "no reply"
        else:
            turn.problem = _heading_problem(step.name, messages)
        seen.append(turn)
    await post_json(http, connector_url + "/bench/reset")
    return seen
