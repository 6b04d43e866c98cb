"""The dev chat page: try the bot in a browser, its cards drawn by Microsoft's renderer.

Development only: `create_app` mounts it when ENVIRONMENT is not production. The page posts
Teams-shaped activities to /api/messages with a serviceUrl that points at the Bot Connector this
module serves under /dev/connector/, so replies, proactive messages and card updates reach the
page through the same adapter and connector client as in Teams. The page asks /dev/chat/events
for what the connector received (a long poll). The gallery at /dev/chat/gallery draws every card
template with the sample values of `bot/card_samples.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.card_samples import sample_cards
from bot.local_connector import Activity, LocalConnector
from bot.settings import Settings
from content.loader import Catalog, load_catalog
from content.templates import Templates

STATIC_DIR = Path(__file__).parent / "devchat_static"
CONNECTOR_PATH = "/dev/connector"
BOT_ID = "28:wegwijzer-dev"
DEV_TENANT = "dev-tenant"
# A stand-in for the Bureau's team when BUREAU_TEAM_ID is unset.
DEV_BUREAU_TEAM = "19:dev-bureau-team@thread.tacv2"
EVENTS_WAIT_SECONDS = 15.0
# What a browser may load: this server only, so nothing comes from the internet.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'"
)


@dataclass(frozen=True)
class Persona:
    """Someone the page can be: a user with a fixed aadObjectId, in one conversation."""

    key: str  # manager, director, trekker, bureau; the page names them
    aad_object_id: str
    conversation_id: str
    conversation_type: str  # personal or channel
    team_id: str | None = None
    channel_id: str | None = None

    @property
    def user_id(self) -> str:
        return f"29:{self.aad_object_id}"


def personas(settings: Settings) -> list[Persona]:
    """The people of the page; fixed ids, so the bot knows them again after a restart."""
    team = settings.BUREAU_TEAM_ID or DEV_BUREAU_TEAM
    channel = team  # a team's General channel has the team's id
    people = [
        Persona(key, aad, f"a:dev-chat-{key}", "personal")
        for key, aad in (
            ("manager", "00000000-0000-4000-8000-00000000a001"),
            ("director", "00000000-0000-4000-8000-00000000a002"),
            ("trekker", "00000000-0000-4000-8000-00000000a003"),
        )
    ]
    bureau_member = "00000000-0000-4000-8000-00000000b001"
    return [*people, Persona("bureau", bureau_member, channel, "channel", team, channel)]


class DevConnector(LocalConnector):
    """The loopback Bot Connector of the page: it knows the personas' conversations."""

    def __init__(self, people: list[Persona]) -> None:
        super().__init__()
        self._personal = {
            member: p.conversation_id
            for p in people
            if p.conversation_type == "personal"
            for member in (p.user_id, p.aad_object_id)
        }
        self._threads = itertools.count(1)
        self._closing = False
        # Who is in which conversation, as Teams' member calls (TeamsInfo) answer it.
        self._members: dict[str, list[Persona]] = {}
        for p in people:
            for conversation in {p.conversation_id, p.team_id or p.conversation_id}:
                self._members.setdefault(conversation, []).append(p)
        self.members = {
            conversation: [_account(p) for p in inside]
            for conversation, inside in self._members.items()
        }

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_get("/v3/conversations/{conversation}/members", self._list_members)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        return app

    async def changes(self, after: int, seconds: float = EVENTS_WAIT_SECONDS) -> list[Activity]:
        """What arrived after the first `after` activities, waiting a while for something new."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: len(self.received) > after or self._closing),
                    seconds,
                )
        return self.received[after:]

    async def close(self, _: web.Application | None = None) -> None:
        """Let waiting pages go, so the server can stop."""
        async with self._changed:
            self._closing = True
            self._changed.notify_all()

    async def _record(self, request: web.Request, activity: Activity) -> None:
        # The path is the address: the page files what arrives under the conversation in it.
        conversation = request.match_info.get("conversation")
        if conversation:
            activity["conversation"] = {**(activity.get("conversation") or {}), "id": conversation}
        await super()._record(request, activity)

    def _in(self, request: web.Request) -> list[Persona]:
        return self._members.get(channel_of(request.match_info["conversation"]), [])

    async def _list_members(self, request: web.Request) -> web.Response:
        return web.json_response([_account(p) for p in self._in(request)])

    async def _member(self, request: web.Request) -> web.Response:
        wanted = request.match_info["member"]
        for p in self._in(request):
            if wanted in (p.user_id, p.aad_object_id):
                return web.json_response(_account(p))
        return web.json_response(
            {"error": {"code": "MemberNotFoundInConversation", "message": "not a member"}},
            status=404,
        )

    async def _create_conversation(self, request: web.Request) -> web.Response:
        # As Teams does: a 1:1 conversation with a user is the personal chat they already
        # have; a new post in a channel starts a thread in that channel.
        body = await request.json()
        channel_data = body.get("channelData") or {}
        channel = (channel_data.get("channel") or {}).get("id")
        members = [m.get("id") or m.get("aadObjectId") for m in body.get("members") or []]
        if channel:
            conversation = f"{channel};messageid={next(self._threads)}"
        elif members and members[0] in self._personal:
            conversation = self._personal[members[0]]
        else:
            conversation = f"a:dev-chat-{uuid.uuid4().hex}"
        answer = {"id": conversation}
        activity = body.get("activity")
        if isinstance(activity, dict):
            activity["id"] = f"activity-{next(self._ids)}"
            activity["conversation"] = {**(activity.get("conversation") or {}), "id": conversation}
            await self._record(request, activity)
            answer["activityId"] = activity["id"]
        return web.json_response(answer)


def channel_of(conversation: str) -> str:
    """A channel thread's conversation id without its `;messageid=`: the channel's."""
    return conversation.split(";messageid=")[0]


def _account(p: Persona) -> dict[str, str]:
    # No names: the bot needs none, and the page's are made up.
    return {"id": p.user_id, "aadObjectId": p.aad_object_id}


DEV_CHAT_KEY = web.AppKey("dev_chat", DevConnector)
SETTINGS_KEY = web.AppKey("dev_chat_settings", Settings)
TEMPLATES_KEY = web.AppKey("dev_chat_templates", Templates)


def add_dev_chat(app: web.Application, settings: Settings, templates: Templates) -> None:
    """Serve the page, its gallery and the loopback Bot Connector; refuses in production."""
    if settings.is_production:
        raise RuntimeError("the dev chat is for development only")
    connector = DevConnector(personas(settings))
    app[DEV_CHAT_KEY] = connector
    app[SETTINGS_KEY] = settings
    app[TEMPLATES_KEY] = templates
    app.add_subapp(CONNECTOR_PATH, connector.app())
    app.router.add_get("/dev/chat", _page("index.html"))
    app.router.add_get("/dev/chat/gallery", _page("gallery.html"))
    app.router.add_get("/dev/chat/config", _config)
    app.router.add_get("/dev/chat/events", _events)
    app.router.add_get("/dev/chat/gallery.json", _gallery)
    app.router.add_static("/dev/chat/static", STATIC_DIR)
    app.on_shutdown.append(connector.close)


def _page(name: str) -> Any:
    async def page(_: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            STATIC_DIR / name,
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-store",
            },
        )

    return page


async def _config(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    tenants = settings.ALLOWED_TENANT_IDS
    return web.json_response(
        {
            "botId": BOT_ID,
            "tenantId": tenants[0] if tenants else DEV_TENANT,
            "connectorPath": CONNECTOR_PATH + "/",
            "authEnabled": settings.auth_enabled,
            "bureauTeamConfigured": bool(settings.BUREAU_TEAM_ID),
            "personas": [{**asdict(p), "user_id": p.user_id} for p in personas(settings)],
        }
    )


async def _events(request: web.Request) -> web.Response:
    try:
        after = max(int(request.query.get("after", "0")), 0)
        wait = min(max(float(request.query.get("wait", EVENTS_WAIT_SECONDS)), 0.0), 30.0)
    except ValueError:
        return web.json_response({"error": "after and wait must be numbers"}, status=400)
    activities = await request.app[DEV_CHAT_KEY].changes(after, wait)
    return web.json_response({"next": after + len(activities), "activities": activities})


async def _gallery(request: web.Request) -> web.Response:
    catalog = _catalog(request.app[SETTINGS_KEY].TOOLKIT_DIR)
    return web.json_response(sample_cards(request.app[TEMPLATES_KEY], catalog))


@cache
def _catalog(toolkit_dir: str) -> Catalog:
    return load_catalog(Path(toolkit_dir)) if toolkit_dir else load_catalog()
