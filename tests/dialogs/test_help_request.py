"""The help request intake, turn by turn, with the real toolkit, triage and a SQLite database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.testing import DialogTestClient
from jsonschema import Draft6Validator
from sqlalchemy import select

from content.loader import Catalog, load_catalog
from content.search import SearchIndex
from content.triage_rules import Priority, load_triage_rules
from dialogs.help_request import HelpRequestDialog
from dialogs.replies import Replies
from services.help_desk import HelpDesk
from services.help_requests import RequestKind, Status
from services.triage import Triage
from storage import bot_state as _registers_state_classes  # noqa: F401
from storage import state_codec
from storage.crypto import TextCipher, generate_key
from storage.db import create_engine, create_session_factory
from storage.models import HelpRequestRecord
from storage.state_drivers import close_driver
from storage.uow import UnitOfWork

SCHEMA = (
    Path(__file__).resolve().parents[3] / "shared/schemas/adaptivecards/1.5.0/adaptive-card.json"
)
SAFE_TEXT = "Mijn team vindt al dat gedoe over diversiteit onzin. Hoe krijg ik draagvlak?"
UNSAFE_TEXT = "Een medewerker wordt al weken bedreigd door een collega."
WHO = {"directorate": "Wonen", "role": "teammanager", "urgency": "deze_maand", "contact": "email"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def triage(catalog: Catalog) -> Triage:
    rules = load_triage_rules(known_items={item.id: item for item in catalog.items()})
    return Triage(rules=rules, catalog=catalog, search=SearchIndex.build(catalog))


@pytest.fixture(scope="module")
def validator() -> Draft6Validator:
    return Draft6Validator(json.loads(SCHEMA.read_text()))


class Desk:
    def __init__(self, sqlite_url: str, triage: Triage) -> None:
        self.engine = create_engine(sqlite_url)
        self.cipher = TextCipher([generate_key()])
        factory = create_session_factory(self.engine)
        self.help_desk = HelpDesk(
            uow_factory=lambda: UnitOfWork(factory, cipher=self.cipher), triage=triage
        )

    async def rows(self) -> list[HelpRequestRecord]:
        async with create_session_factory(self.engine)() as session:
            return list(await session.scalars(select(HelpRequestRecord)))


@pytest.fixture
async def desk(sqlite_url: str, triage: Triage) -> AsyncIterator[Desk]:
    desk = Desk(sqlite_url, triage)
    yield desk
    await close_driver(desk.engine)
    await desk.engine.dispose()


@pytest.fixture
def dialog(replies: Replies, catalog: Catalog, desk: Desk) -> HelpRequestDialog:
    return HelpRequestDialog(
        replies,
        help_desk=desk.help_desk,
        catalog=catalog,
        links={"VERTROUWENSPERSOON_URL": "https://example.org/vertrouwenspersoon"},
        sealer=desk.cipher,
    )


@pytest.fixture
def client(dialog: HelpRequestDialog) -> DialogTestClient:
    """The intake as the menu starts it: the kind is asked first."""
    return DialogTestClient("msteams", dialog)


@pytest.fixture
def question_client(dialog: HelpRequestDialog) -> DialogTestClient:
    """The intake as "Stel je vraag aan het Bureau" on a card starts it: a question."""
    return DialogTestClient("msteams", dialog, initial_dialog_options={"kind": "question"})


def press(**data: Any) -> Activity:
    return Activity(type=ActivityTypes.message, value=data)


def typed(text: str) -> Activity:
    return Activity(type=ActivityTypes.message, text=text)


def card(activity: Activity) -> dict[str, Any]:
    content: dict[str, Any] = activity.attachments[0].content
    return content


def texts(activity: Activity) -> list[str]:
    found: list[str] = []

    def walk(elements: list[dict[str, Any]]) -> None:
        for element in elements:
            if element["type"] == "TextBlock":
                found.append(element["text"])
            walk(element.get("items", []))

    walk(card(activity)["body"])
    return found


def inputs(activity: Activity) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card(activity)["body"] if e["type"].startswith("Input.")}


async def start(client: DialogTestClient) -> Activity:
    reply: Activity = await client.send_activity(press(action="help_request"))
    return reply


async def test_a_question_takes_five_steps_and_is_stored_only_after_confirming(
    client: DialogTestClient, desk: Desk, validator: Draft6Validator
) -> None:
    kind = await start(client)
    assert "Stap 1 van 5" in texts(kind)
    text_step = await client.send_activity(press(form="kind", kind="question"))
    assert inputs(text_step)["text"]["maxLength"] == 1000
    theme = await client.send_activity(typed(SAFE_TEXT))
    theme_input = inputs(theme)["theme"]
    # Triage's suggestion comes first, pre-selected, and can be changed.
    assert theme_input["value"] == "weerstand-draagvlak"
    assert theme_input["choices"][0]["title"].endswith("(voorstel)")
    who = await client.send_activity(press(form="theme", theme="weerstand-draagvlak"))
    assert set(inputs(who)) == {"directorate", "role", "urgency", "contact"}
    summary = await client.send_activity(press(form="who", **WHO))

    assert "Stap 5 van 5" in texts(summary)
    assert "Wat gebeurt er met je vraag?" in texts(summary)
    assert inputs(summary)["text"]["value"] == SAFE_TEXT
    for step in (kind, text_step, theme, who, summary):
        assert not list(validator.iter_errors(card(step)))
    assert await desk.rows() == []

    sent = await client.send_activity(
        press(form="summary", text=SAFE_TEXT, theme="weerstand-draagvlak", **WHO)
    )
    assert "verstuurd" in sent.text
    [row] = await desk.rows()
    assert (row.kind, row.status, row.priority, row.directorate) == (
        "question",
        "new",
        Priority.NORMAAL.value,
        "Wonen",
    )
    assert "draagvlak" not in row.payload  # encrypted at rest


async def test_the_summary_lets_the_requester_change_an_answer_before_sending(
    question_client: DialogTestClient, desk: Desk
) -> None:
    client = question_client
    text_step = await start(client)
    assert "Stap 1 van 4" in texts(text_step)
    await client.send_activity(typed(SAFE_TEXT))
    await client.send_activity(press(form="theme", theme="weerstand-draagvlak"))
    await client.send_activity(press(form="who", **WHO))
    changed = {**WHO, "urgency": "deze_week", "directorate": "Zuid"}
    sent = await client.send_activity(
        press(
            form="summary", text=SAFE_TEXT + " Het is dringend.", theme="bewustwording", **changed
        )
    )

    assert "verstuurd" in (sent.text or ""), texts(sent)
    [row] = await desk.rows()
    assert (row.theme, row.priority, row.directorate) == ("bewustwording", "hoog", "Zuid")
    async with UnitOfWork(create_session_factory(desk.engine), cipher=desk.cipher) as uow:
        stored = await uow.help_requests.get(row.id)
    assert stored is not None and stored.text.endswith("Het is dringend.")


async def test_a_safety_signal_shows_the_route_at_once_and_the_request_gets_spoed(
    question_client: DialogTestClient, desk: Desk, validator: Draft6Validator
) -> None:
    client = question_client
    await start(client)
    route = await client.send_activity(typed(UNSAFE_TEXT))

    assert "Eerst dit" in texts(route)
    assert not list(validator.iter_errors(card(route)))
    links = [
        action["url"]
        for element in card(route)["body"]
        for item in element.get("items", [])
        for action in item.get("actions", [])
    ]
    assert links == ["https://example.org/vertrouwenspersoon"]
    theme = client.get_next_reply()  # the intake goes on after the route
    assert "theme" in inputs(theme)

    await client.send_activity(press(form="theme", theme="sociale-veiligheid"))
    await client.send_activity(press(form="who", **{**WHO, "urgency": "geen_haast"}))
    await client.send_activity(
        press(
            form="summary",
            text=UNSAFE_TEXT,
            theme="sociale-veiligheid",
            **{**WHO, "urgency": "geen_haast"},
        )
    )
    [row] = await desk.rows()
    assert row.priority == Priority.SPOED.value


async def test_stopping_at_any_step_stores_nothing(
    question_client: DialogTestClient, desk: Desk
) -> None:
    client = question_client
    await start(client)
    await client.send_activity(typed(SAFE_TEXT))
    await client.send_activity(press(form="theme", theme="weerstand-draagvlak"))
    stopped = await client.send_activity(press(form="who", stop=True))

    assert "niets bewaard" in stopped.text
    assert await desk.rows() == []


async def test_the_text_waits_sealed_in_the_dialog_state(
    question_client: DialogTestClient,
) -> None:
    client = question_client
    await start(client)
    await client.send_activity(typed(SAFE_TEXT))
    # What the memory storage holds is what the SQL state storage would write.
    stored = json.dumps(client.conversation_state._storage.memory, default=str)
    assert "gAAAA" in stored  # a Fernet token: the sealed text is really here
    assert "draagvlak" not in stored


async def test_the_summary_form_waits_with_its_free_text_sealed_and_shows_it_opened(
    dialog: HelpRequestDialog,
) -> None:
    client = DialogTestClient(
        "msteams",
        dialog,
        initial_dialog_options={"action": "help_request", "offer": "gespreksbegeleider"},
    )
    await start(client)
    await client.send_activity(typed(SAFE_TEXT))
    await client.send_activity(press(form="theme", theme="weerstand-draagvlak"))
    await client.send_activity(
        press(form="team", team_size=14, weeks="week 3 of 4", notes="Twee zijn net nieuw.")
    )
    summary = await client.send_activity(press(form="who", **WHO))
    # Refused (no text): the form is drawn again from what waits in the state.
    again = await client.send_activity(press(form="summary", text="", **WHO))

    for shown in (summary, again):
        values = {name: field.get("value") for name, field in inputs(shown).items()}
        assert (values["text"], values["weeks"], values["notes"]) == (
            SAFE_TEXT,
            "week 3 of 4",
            "Twee zijn net nieuw.",
        )
    # As the SQL state storage writes it (storage/bot_state.py), options and all.
    stored = state_codec.dumps(client.conversation_state._storage.memory)
    assert "gAAAA" in stored
    assert "Hoe krijg ik" not in stored and "week 3 of 4" not in stored and "nieuw" not in stored


async def test_a_too_long_text_is_refused_with_the_limit_and_nothing_moves_on(
    question_client: DialogTestClient,
) -> None:
    client = question_client
    await start(client)
    again = await client.send_activity(press(form="text", text="x" * 1001))
    assert "maximaal 1000 tekens" in texts(again)[0]
    assert "text" in inputs(again)


async def test_a_gespreksbegeleider_request_asks_for_the_team_and_stores_its_fields(
    dialog: HelpRequestDialog, desk: Desk
) -> None:
    # The offer's "Aanvragen bij het Bureau" button names the offer.
    client = DialogTestClient(
        "msteams",
        dialog,
        initial_dialog_options={"action": "help_request", "offer": "gespreksbegeleider"},
    )
    text_step = await start(client)
    assert "Stap 1 van 5" in texts(text_step)
    assert "Waar moet het teamgesprek over gaan?" in texts(text_step)
    await client.send_activity(typed("Over polarisatie na de verkiezingen."))
    team = await client.send_activity(press(form="theme", theme="weerstand-draagvlak"))
    assert set(inputs(team)) == {"team_size", "weeks", "notes"}
    refused = await client.send_activity(press(form="team", team_size=0, weeks="week 3"))
    assert "Vul een getal in van 1 tot 500." in texts(refused)
    await client.send_activity(press(form="team", team_size=14, weeks="week 3 of 4", notes=""))
    summary = await client.send_activity(press(form="who", **WHO))
    assert inputs(summary)["team_size"]["value"] == 14
    await client.send_activity(
        press(
            form="summary",
            text="Over polarisatie na de verkiezingen.",
            theme="weerstand-draagvlak",
            team_size=14,
            weeks="week 3 of 4",
            notes="Twee mensen zijn net nieuw.",
            **WHO,
        )
    )

    [row] = await desk.rows()
    assert (row.kind, row.team_size) == (RequestKind.GESPREKSBEGELEIDER.value, 14)
    async with UnitOfWork(create_session_factory(desk.engine), cipher=desk.cipher) as uow:
        stored = await uow.help_requests.get(row.id)
    assert stored is not None
    assert stored.details == {"weeks": "week 3 of 4", "notes": "Twee mensen zijn net nieuw."}
    assert stored.suggestions[0].offer_id == "gespreksbegeleider"
    assert stored.status is Status.NEW


async def test_a_second_request_starts_with_the_directorate_role_and_contact_of_the_first(
    question_client: DialogTestClient,
) -> None:
    client = question_client
    first = await start(client)
    assert inputs(first)["text"].get("value") is None
    await client.send_activity(typed(SAFE_TEXT))
    who = await client.send_activity(press(form="theme", theme="weerstand-draagvlak"))
    assert not any(field.get("value") for field in inputs(who).values())  # nothing known yet
    await client.send_activity(press(form="who", **WHO))
    await client.send_activity(press(form="summary", text=SAFE_TEXT, theme="bewustwording", **WHO))

    await start(client)
    await client.send_activity(typed(SAFE_TEXT))
    again = await client.send_activity(press(form="theme", theme="weerstand-draagvlak"))

    known = {name: field.get("value") for name, field in inputs(again).items()}
    assert known == {
        "directorate": "Wonen",
        "role": "teammanager",
        "urgency": None,  # asked anew: it is about this request
        "contact": "email",
    }
