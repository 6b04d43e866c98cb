"""Typed commands in the Bureau's channel: only the Bureau's members, in its team, may use them."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from bot.app import APP_KEY
from bot.chat import TeamsUser
from bot.local_connector import LocalConnector
from bot.roster import TeamRoster
from content.verbs import VERB_FIELD, Verb
from storage.models import BureauChannelRecord
from tests.web.bureau import (
    BUREAU_TEAM,
    QUEUE_CHANNEL,
    account,
    bureau_bot,
    in_channel,
    says_to_bot,
    stranger_team,
)
from tests.web.conftest import TENANT, RunningBot, start_bot

LINKED = "Dit kanaal is nu gekoppeld"
REFUSED = "Dit kan alleen een lid van Bureau I&D"


def person(connector_url: str, **fields: str) -> TeamsUser:
    return TeamsUser("", connector_url, TENANT, **fields)


async def linked_channels(running_bot: RunningBot) -> list[tuple[str, str]]:
    wegwijzer = running_bot.app[APP_KEY]
    async with wegwijzer.engine.connect() as connection:
        rows = await connection.execute(
            select(BureauChannelRecord.team_id, BureauChannelRecord.channel_id)
        )
        return [(team, channel) for team, channel in rows]


async def test_a_bureau_member_links_the_channel_by_typing_the_command(tmp_path: Path) -> None:
    member = person("", aad_object_id="aad-bureau-1")
    async for bot in bureau_bot(tmp_path, [account(member, "Fatima")]):
        member = bot.user(aad_object_id=member.aad_object_id)
        _, messages = await bot.send(says_to_bot(member, "koppel dit kanaal"))

        assert [m["text"] for m in messages] == [
            f"{LINKED}. Nieuwe hulpvragen komen vanaf nu hier."
        ]
        assert messages[0]["conversation"]["id"].startswith(QUEUE_CHANNEL)
        assert await linked_channels(bot) == [(BUREAU_TEAM, QUEUE_CHANNEL)]
        assert await bot.app[APP_KEY].bureau_channel.channel_id() == QUEUE_CHANNEL


async def test_the_roster_reads_every_page_of_the_team_and_keeps_it_briefly(
    tmp_path: Path,
) -> None:
    colleagues = [account(person("", aad_object_id=f"aad-{n}")) for n in range(700)]
    member = person("", aad_object_id="aad-last", locale="en-US")
    async for bot in bureau_bot(tmp_path, [*colleagues, account(member)]):
        member = bot.user(aad_object_id="aad-last", locale="en-US")
        _, first = await bot.send(says_to_bot(member, "link this channel"))
        _, second = await bot.send(says_to_bot(member, "Link"))

        assert [m["text"] for m in first + second] == [
            "This channel is now linked. New help requests appear here from now on."
        ] * 2
        assert bot.connector.member_calls == 2  # two pages of 500, read once for both commands


async def test_someone_outside_the_team_is_refused_and_nothing_is_linked(
    tmp_path: Path,
) -> None:
    async for bot in bureau_bot(tmp_path, [account(person("", aad_object_id="aad-bureau"))]):
        outsider = bot.user()
        _, messages = await bot.send(says_to_bot(outsider, "koppel"))

        assert REFUSED in messages[0]["text"]
        assert await linked_channels(bot) == []


async def test_a_member_typing_it_in_another_team_is_refused(tmp_path: Path) -> None:
    async for bot in bureau_bot(tmp_path, [account(person("", aad_object_id="aad-b"))]):
        member = bot.user(aad_object_id="aad-b")
        _, messages = await bot.send(says_to_bot(member, "koppel", team=stranger_team()))

        assert REFUSED in messages[0]["text"]
        assert await linked_channels(bot) == []
        assert bot.connector.member_calls == 0  # the team is checked before Teams is asked


async def test_a_member_not_on_the_allow_list_is_refused(tmp_path: Path) -> None:
    members = [account(person("", aad_object_id=a)) for a in ("aad-a", "aad-b")]
    async for bot in bureau_bot(tmp_path, members, BUREAU_MEMBER_IDS="aad-a"):
        _, refused = await bot.send(says_to_bot(bot.user(aad_object_id="aad-b"), "koppel"))
        _, linked = await bot.send(says_to_bot(bot.user(aad_object_id="aad-a"), "koppel"))

        assert REFUSED in refused[0]["text"]
        assert LINKED in linked[0]["text"]


async def test_nobody_is_let_in_when_teams_cannot_say_who_is_in_the_team(
    tmp_path: Path,
) -> None:
    def members_call_fails(request: web.Request) -> int | None:
        return 503 if request.path.endswith("/pagedmembers") else None

    connector = LocalConnector(
        fail_with=members_call_fails, members={BUREAU_TEAM: [{"aadObjectId": "aad-b"}]}
    )
    async for bot in start_bot(tmp_path, connector, BUREAU_TEAM_ID=BUREAU_TEAM):
        _, messages = await bot.send(says_to_bot(bot.user(aad_object_id="aad-b"), "koppel"))

        assert REFUSED in messages[-1]["text"]
        assert await linked_channels(bot) == []


async def test_other_text_in_the_channel_is_no_command(tmp_path: Path) -> None:
    async for bot in bureau_bot(tmp_path, [account(person("", aad_object_id="aad-b"))]):
        _, messages = await bot.send(says_to_bot(bot.user(aad_object_id="aad-b"), "koppelen?"))

        assert all(REFUSED not in (m.get("text") or "") for m in messages)
        assert await linked_channels(bot) == []


async def test_a_new_colleague_is_let_in_once_the_kept_roster_is_half_a_minute_old(
    tmp_path: Path,
) -> None:
    clock = [1000.0]
    async for bot in bureau_bot(tmp_path, [account(person("", aad_object_id="aad-old"))]):
        bot.app[APP_KEY].actions.roster = TeamRoster(clock=lambda: clock[0])
        await bot.send(says_to_bot(bot.user(aad_object_id="aad-old"), "koppel"))
        bot.connector.members[BUREAU_TEAM].append(account(person("", aad_object_id="aad-new")))
        newcomer = bot.user(aad_object_id="aad-new")

        _, too_soon = await bot.send(says_to_bot(newcomer, "koppel"))
        clock[0] += 31
        _, later = await bot.send(says_to_bot(newcomer, "koppel"))

        assert REFUSED in too_soon[0]["text"]
        assert LINKED in later[0]["text"]
        assert bot.connector.member_calls == 2


async def test_a_help_request_is_never_started_in_a_channel_only_in_ones_own_chat(
    tmp_path: Path,
) -> None:
    # A request may describe discrimination: its steps and summary must not show where the
    # whole team reads along, nor be continued by a colleague pressing the same card.
    member = person("", aad_object_id="aad-bureau-1")
    async for bot in bureau_bot(tmp_path, [account(member, "Fatima")]):
        member = bot.user(aad_object_id=member.aad_object_id)
        typed = says_to_bot(member, "Ik wil hulp van het Bureau")
        pressed = in_channel(member.presses({VERB_FIELD: Verb.HELP_REQUEST.value}))
        for activity in (typed, pressed):
            _, messages = await bot.send(activity)
            assert [m.get("text") for m in messages if m.get("type") == "message"] == [
                "Dat kan in je eigen chat met Wegwijzer I&D. Open die chat en typ het daar."
            ]
            assert not [m for m in messages if m.get("attachments")]
        english = bot.user(aad_object_id=member.aad_object_id, locale="en-US")
        _, messages = await bot.send(says_to_bot(english, "I need help from the Bureau"))
        assert "You can do that in your own chat" in str([m.get("text") for m in messages])
