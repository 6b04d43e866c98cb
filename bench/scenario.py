"""The traffic: Teams-shaped message activities, each user walking the same seven turns.

The activities are written here once, as JSON templates with `@id@`, `@aad@` and `@conversation@`
holes. The wrk script (traffic.lua) fills the holes per request; the sanity check fills them the
same way, so both send exactly the same shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

TENANT = "bench-tenant"
BOT_ID = "28:wegwijzer-bench"
QUESTION = "mijn team maakt grapjes over afkomst, wat kan ik doen?"


@dataclass(frozen=True)
class Step:
    """One turn of the scenario: what the user types or which card button they press."""

    name: str
    fields: dict[str, Any]


def _says(text: str) -> dict[str, Any]:
    return {"text": text, "textFormat": "plain"}


def _presses(value: dict[str, str]) -> dict[str, Any]:
    return {"text": None, "value": value}


STEPS: tuple[Step, ...] = (
    Step("menu", _says("menu")),
    Step("finder", _presses({"action": "finder"})),
    Step("role", _presses({"finder": "teammanager"})),
    Step("theme", _presses({"finder": "gesprekstechnieken"})),
    Step("need", _presses({"finder": "teamgesprek"})),
    Step("format", _presses({"finder": "team"})),
    Step("question", _says(QUESTION)),
)


def template(service_url: str, step: Step) -> str:
    """The activity of `step` as JSON, with holes for the activity id, user and conversation."""
    activity: dict[str, Any] = {
        "type": "message",
        "id": "@id@",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": "29:@aad@", "aadObjectId": "@aad@"},
        "recipient": {"id": BOT_ID},
        "conversation": {
            "id": "@conversation@",
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "nl-NL",
        **step.fields,
    }
    return json.dumps(activity, ensure_ascii=False, separators=(",", ":"))


def fill(template_: str, *, activity_id: str, aad: str, conversation: str) -> str:
    """Fill the holes of a template the way traffic.lua does."""
    return (
        template_.replace("@id@", activity_id)
        .replace("@aad@", aad)
        .replace("@conversation@", conversation)
    )
