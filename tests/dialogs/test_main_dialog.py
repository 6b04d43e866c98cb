"""The root dialog and the interruptions every flow inherits, driven turn by turn."""

from __future__ import annotations

from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.dialogs import DialogTurnResult, TextPrompt, WaterfallDialog, WaterfallStepContext
from botbuilder.dialogs.prompts import PromptOptions
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.testing import DialogTestClient

from content.verbs import VERB_FIELD, Verb
from dialogs.base import InterruptibleDialog
from dialogs.main import MainDialog
from dialogs.replies import Replies


class TwoQuestions(InterruptibleDialog):
    """A small flow with two prompts, to prove 'menu' and 'stop' work in the middle of one."""

    def __init__(self, replies: Replies) -> None:
        super().__init__(TwoQuestions.__name__, replies)
        self.add_dialog(TextPrompt(TextPrompt.__name__))
        self.add_dialog(WaterfallDialog(WaterfallDialog.__name__, [self.ask, self.ask, self.done]))
        self.initial_dialog_id = WaterfallDialog.__name__

    async def ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        return await step.prompt(
            TextPrompt.__name__, PromptOptions(prompt=MessageFactory.text("question"))
        )

    async def done(self, step: WaterfallStepContext) -> DialogTurnResult:
        await step.context.send_activity("done")
        return await step.end_dialog()


def press(data: dict[str, Any]) -> Activity:
    return Activity(type=ActivityTypes.message, value=data)


def is_menu(activity: Activity) -> bool:
    return bool(activity.attachments) and activity.attachments[0].content["body"][0]["text"] in (
        "Waar kan ik je mee helpen?",
        "How can I help you?",
    )


async def test_free_text_without_a_search_shows_the_menu(replies: Replies) -> None:
    client = DialogTestClient("msteams", MainDialog(replies))
    assert is_menu(await client.send_activity("iets"))


async def test_typing_menu_in_the_middle_of_a_flow_ends_it_and_shows_the_menu(
    replies: Replies,
) -> None:
    main = MainDialog(replies, flows={Verb.FINDER: TwoQuestions(replies)})
    client = DialogTestClient("msteams", main)
    assert (await client.send_activity(press({VERB_FIELD: Verb.FINDER}))).text == "question"
    assert (await client.send_activity("first answer")).text == "question"
    assert is_menu(await client.send_activity("hulp"))
    assert client.dialog_turn_result.status.name == "Complete"
    # The flow is gone: the next text is no answer to its question.
    assert is_menu(await client.send_activity("menu"))


async def test_typing_stop_in_the_middle_of_a_flow_stops_it(replies: Replies) -> None:
    client = DialogTestClient(
        "msteams", MainDialog(replies, flows={Verb.FINDER: TwoQuestions(replies)})
    )
    await client.send_activity(press({VERB_FIELD: Verb.FINDER}))
    reply = await client.send_activity("stop")
    assert "gestopt" in reply.text


async def test_a_button_that_starts_no_flow_gets_the_routers_unknown_card(
    replies: Replies,
) -> None:
    """The same answer as the action router's for a verb it does not know, with a menu button."""
    client = DialogTestClient("msteams", MainDialog(replies))
    reply = await client.send_activity(press({VERB_FIELD: "no-such-verb"}))
    (card,) = [a.content for a in reply.attachments]
    assert card == replies.renderer.card("action_problem", "nl", problem="action_unknown").card
    assert client.get_next_reply() is None


def test_the_dialog_names_the_buttons_it_answers(replies: Replies) -> None:
    dialog = MainDialog(replies, flows={Verb.FINDER: TwoQuestions(replies)})
    assert dialog.verbs == {Verb.FINDER, Verb.ASK, Verb.STOP}
