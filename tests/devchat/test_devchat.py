"""The dev chat's server side: only in development, and a real Bot Connector on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from bot.card_samples import SAMPLES, sample_cards
from bot.devchat import CONNECTOR_PATH, DEV_CHAT_KEY, add_dev_chat, personas
from bot.settings import Settings
from content.loader import load_catalog
from content.templates import load_templates
from tests.devchat.conftest import DevChat, serve

PRODUCTION = {
    "ENVIRONMENT": "production",
    "APP_ID": "00000000-0000-0000-0000-00000000a99d",
    "APP_PASSWORD": "not-a-real-secret",
    "APP_TYPE": "SingleTenant",
    "APP_TENANTID": "city-tenant",
    "ALLOWED_TENANT_IDS": ["city-tenant"],
    "ENCRYPTION_KEYS": ["HuvrbTaHWY13tJXDANuCQYu5iMNc2OhvSRlsVqbv9kQ="],
    "PUBLIC_URL": "https://wegwijzer.example",
    "LINK_SIGNING_KEY": "test-only-link-signing-key-0123456789abcdef",
}
# One bot for the tests that can share it: building one costs seconds. Each test reads only the
# activities that arrived after it began.
on_the_shared_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dev_chat(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevChat]:
    tmp_path = tmp_path_factory.mktemp("dev_chat")
    async for running in serve(tmp_path, ALLOWED_TENANT_IDS=["city-tenant"]):
        yield running


PRODUCTION_DATABASE = "postgresql+asyncpg://wegwijzer@db.example/wegwijzer"  # never connected to
DEV_PATHS = [
    "/dev/chat",
    "/dev/chat/gallery",
    "/dev/chat/config",
    "/dev/chat/events?wait=0",
    "/dev/chat/gallery.json",
    "/dev/chat/static/devchat.js",
    "/dev/chat/static/vendor/adaptivecards.min.js",
]


@on_the_shared_loop
async def test_production_serves_no_dev_chat_and_no_loopback_connector(
    tmp_path: Path, postgres_url: str
) -> None:
    # Production runs on PostgreSQL only (bot/settings.py refuses anything else).
    async for running in serve(tmp_path, postgres_url, **PRODUCTION):
        for path in DEV_PATHS:
            async with running.http.get(running.url + path) as response:
                assert response.status == 404, path
        async with running.http.post(
            running.url + CONNECTOR_PATH + "/v3/conversations/x/activities",
            json={"type": "message"},
        ) as response:
            assert response.status == 404
        assert DEV_CHAT_KEY not in running.app


def test_the_dev_chat_refuses_to_be_added_in_production() -> None:
    settings = Settings(_env_file=None, DATABASE_URL=PRODUCTION_DATABASE, **PRODUCTION)  # type: ignore[call-arg]
    with pytest.raises(RuntimeError):
        add_dev_chat(web.Application(), settings, load_templates())


@on_the_shared_loop
async def test_development_serves_the_page_the_renderer_and_a_strict_policy(
    dev_chat: DevChat,
) -> None:
    for path in DEV_PATHS:
        async with dev_chat.http.get(dev_chat.url + path) as response:
            assert response.status == 200, path
    async with dev_chat.http.get(dev_chat.url + "/dev/chat") as response:
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert "adaptivecards.min.js" in await response.text()


def test_every_persona_has_its_own_user_and_the_bureau_member_is_in_the_bureau_team() -> None:
    settings = Settings(_env_file=None, BUREAU_TEAM_ID="19:team@thread.tacv2")  # type: ignore[call-arg]
    people = {p.key: p for p in personas(settings)}
    assert set(people) == {"manager", "director", "trekker", "bureau"}
    assert len({p.aad_object_id for p in people.values()}) == 4
    assert len({p.conversation_id for p in people.values()}) == 4
    assert people["bureau"].conversation_type == "channel"
    assert people["bureau"].team_id == "19:team@thread.tacv2"
    assert people["bureau"].conversation_id == "19:team@thread.tacv2"  # its General channel


def _teams_activity(chat: DevChat, config: dict[str, Any], key: str, **fields: Any) -> Any:
    person = next(p for p in config["personas"] if p["key"] == key)
    return {
        "type": "message",
        "id": "m1",
        "channelId": "msteams",
        "serviceUrl": chat.url + config["connectorPath"],
        "from": {"id": person["user_id"], "aadObjectId": person["aad_object_id"]},
        "recipient": {"id": config["botId"]},
        "conversation": {
            "id": person["conversation_id"],
            "conversationType": person["conversation_type"],
            "tenantId": config["tenantId"],
        },
        "channelData": {"tenant": {"id": config["tenantId"]}},
        "locale": "nl-NL",
        **fields,
    }


async def _get(chat: DevChat, path: str) -> Any:
    async with chat.http.get(chat.url + path) as response:
        assert response.status == 200
        return await response.json()


@on_the_shared_loop
async def test_the_bot_answers_the_page_through_the_adapter_and_the_loopback_connector(
    dev_chat: DevChat,
) -> None:
    start = len(dev_chat.connector.received)
    config = await _get(dev_chat, "/dev/chat/config")
    install = _teams_activity(
        dev_chat, config, "manager", type="conversationUpdate", membersAdded=[{"id": "28:bot"}]
    )
    async with dev_chat.http.post(dev_chat.url + "/api/messages", json=install) as response:
        assert response.status in (200, 201)
    changes = await _get(dev_chat, f"/dev/chat/events?after={start}&wait=0")
    messages = [a for a in changes["activities"] if a["type"] == "message"]
    assert [m["conversation"]["id"] for m in messages] == ["a:dev-chat-manager"] * 2
    assert all(m["id"] for m in messages)
    assert messages[0]["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    # The page asks again from where it was: nothing new yet, so an empty answer after the wait.
    again = await _get(dev_chat, f"/dev/chat/events?after={changes['next']}&wait=0")
    assert again == {"next": changes["next"], "activities": []}


@on_the_shared_loop
async def test_an_update_arrives_with_the_id_of_the_message_it_replaces(dev_chat: DevChat) -> None:
    start = len(dev_chat.connector.received)
    base = dev_chat.url + CONNECTOR_PATH + "/v3/conversations/a:dev-chat-manager/activities"
    async with dev_chat.http.post(base, json={"type": "message", "text": "1"}) as response:
        sent_id = (await response.json())["id"]
    async with dev_chat.http.put(
        f"{base}/{sent_id}", json={"type": "message", "id": sent_id, "text": "2"}
    ) as response:
        assert response.status == 200
    changes = await _get(dev_chat, f"/dev/chat/events?after={start}&wait=0")
    assert [(a["id"], a["text"]) for a in changes["activities"]] == [(sent_id, "1"), (sent_id, "2")]


@on_the_shared_loop
async def test_created_conversations_are_the_personal_chat_or_a_new_channel_thread(
    dev_chat: DevChat,
) -> None:
    start = len(dev_chat.connector.received)
    url = dev_chat.url + CONNECTOR_PATH + "/v3/conversations"
    manager = personas(Settings(_env_file=None))[0]  # type: ignore[call-arg]
    async with dev_chat.http.post(url, json={"members": [{"id": manager.user_id}]}) as response:
        assert (await response.json())["id"] == manager.conversation_id
    channel_post = {
        "isGroup": True,
        "channelData": {"channel": {"id": "19:ch@thread.tacv2"}},
        "activity": {"type": "message", "text": "nieuw verzoek"},
    }
    async with dev_chat.http.post(url, json=channel_post) as response:
        created = await response.json()
    assert created["id"].startswith("19:ch@thread.tacv2;messageid=")
    changes = await _get(dev_chat, f"/dev/chat/events?after={start}&wait=0")
    assert changes["activities"][0]["conversation"]["id"] == created["id"]
    assert changes["activities"][0]["id"] == created["activityId"]


@on_the_shared_loop
async def test_a_bad_events_query_gets_a_clear_400(dev_chat: DevChat) -> None:
    for query in ("after=x", "after=1&wait=soon"):
        async with dev_chat.http.get(dev_chat.url + "/dev/chat/events?" + query) as response:
            assert response.status == 400
            assert "must be numbers" in (await response.json())["error"]


def test_every_card_template_has_a_sample_that_renders_in_both_languages() -> None:
    templates = load_templates()
    assert set(SAMPLES) == set(templates.cards), "add the new template's sample to SAMPLES"
    cards = sample_cards(templates, load_catalog())
    assert [c for c in cards if "error" in c] == []
    assert {(c["template"], c["lang"]) for c in cards} == {
        (name, lang) for name in templates.cards for lang in ("nl", "en")
    }


@on_the_shared_loop
async def test_the_bureau_member_is_a_member_of_the_bureau_team_and_a_manager_is_not(
    tmp_path: Path,
) -> None:
    team = "19:bureau@thread.tacv2"
    async for chat in serve(tmp_path, BUREAU_TEAM_ID=team):
        people = {p.key: p for p in personas(Settings(_env_file=None, BUREAU_TEAM_ID=team))}  # type: ignore[call-arg]
        members = f"{chat.url}{CONNECTOR_PATH}/v3/conversations/{team}/members"
        async with chat.http.get(members) as response:
            assert [m["aadObjectId"] for m in await response.json()] == [
                people["bureau"].aad_object_id
            ]
        async with chat.http.get(f"{members}/{people['bureau'].user_id}") as response:
            assert response.status == 200
        async with chat.http.get(f"{members}/{people['manager'].user_id}") as response:
            assert response.status == 404
