"""The action router: every pressed card button, by its verb, to one small handler.

A button is an `Action.Execute` (Universal Actions: an `adaptiveCard/action` invoke, answered
in the invoke response) or, in a personal chat, an `Action.Submit` whose data carries the verb
under `content.verbs.VERB_FIELD` (a message activity, answered with messages). Both reach the
same handler, registered once for its verb with who may press it:

- `Who.PERSONAL`: anyone, in their own personal chat with the bot;
- `Who.ANYWHERE`: anyone, in any conversation with the bot (the menu, toolkit pages, contact);
- `Who.BUREAU`: a member of the Bureau's team (setting `BUREAU_TEAM_ID`), in a channel of that
  team, as the `BureauRoster` (`bot/roster.py`) says; checked on every press.

Who pressed is always the activity's `from.aadObjectId`, never anything in the card's data.
An unknown verb, a refused actor or a stale card gets a card that says so (Dutch, or English
for English locales) and changes nothing. A handler that fails unexpectedly gets a card that
says it did not work (logged with its exception class and verb only, never its message); what
the handler committed before it failed stays committed, and the card does not say otherwise.

Writing a handler: a function that takes a `Press` and returns a `Reply` (new messages in the
conversation), a `Replace` (a new card in place of the pressed one, for everyone who sees it)
or a `Show` (a card for the presser alone: a form, a refresh), plus one line that registers it::

    async def claim(press: Press) -> Replace:
        async with uow_factory() as uow:
            request = await claim_request(uow=uow, request_id=press.data["request"],
                                          by=press.actor)   # raises StaleCard if taken
        return Replace(renderer.card("help_request_bureau", press.lang, **view(request)))

    router.register(Verb.CLAIM, claim, who=Who.BUREAU)

A handler raises `StaleCard` when the card no longer fits what is stored (already claimed,
closed, gone) before it commits anything. It renders with `content.render.Renderer`, writes
through the unit of work, and sends messages to anyone else through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity

from content.render import Message, Renderer
from content.schema import Lang
from content.verbs import VERB_FIELD, Verb, verb_of
from dialogs.replies import PERSONAL, conversation_scope, lang_of, message_activity
from services.help_requests import submission_key
from storage.breaker import DatabaseUnavailable

log = logging.getLogger(__name__)

INVOKE_NAME = "adaptiveCard/action"
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
CHANNEL = "channel"


class Who(Enum):
    """Who may press a verb's button."""

    PERSONAL = "anyone, in their own personal chat"
    ANYWHERE = "anyone, in any conversation with the bot (the menu, toolkit pages, contact)"
    BUREAU = "a member of the Bureau's team, in that team"


class StaleCard(Exception):
    """The pressed card shows something that changed since; the handler changed nothing."""


# Row ids are 32-bit integers in the database (PostgreSQL's integer); a larger number on a card
# was never ours, and would fail the query rather than find nothing.
MAX_ROW_ID = 2**31 - 1


def row_id_of(data: Mapping[str, Any], key: str) -> int:
    """The stored row a card is about (`data[key]`); a card without a sensible one is stale.

    Cards carry the number as an int, or as a string after Teams' round trip. Anything else
    (a forged card: a bool, a float, "²", which `isdigit` accepts but `int` refuses, a number
    past the column's range) raises StaleCard, so the presser gets the stale card's answer.
    """
    value = data.get(key)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 11:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ROW_ID:
        return value
    raise StaleCard


def submission_of(data: Mapping[str, Any]) -> str | None:
    """The key a form card was rendered with (`new_submission`), or None for a card without one.

    The same card's button pressed twice (a double click, a retried delivery) carries the same
    key, and the database keeps one message per key.
    """
    return submission_key(data.get("submission"))


@dataclass(frozen=True)
class Press:
    """One pressed button: the verb, the card's data (without the verb), who and where."""

    verb: Verb
    data: Mapping[str, Any]
    actor: str  # the presser's aadObjectId, from the activity
    lang: Lang
    turn_context: TurnContext


@dataclass(frozen=True)
class Reply:
    """Answer with new messages in the conversation; the pressed card stays as it is."""

    messages: tuple[Message, ...]

    def __init__(self, *messages: Message) -> None:
        object.__setattr__(self, "messages", messages)


@dataclass(frozen=True)
class Replace:
    """Answer with a new card in place of the pressed one, for everyone who sees it.

    `for_presser`, when given, is what the one who pressed sees instead (the same card with a
    line for them alone: "you claimed it", "a colleague has it already").
    """

    card: Message
    for_presser: Message | None = None

    @property
    def answer(self) -> Message:
        return self.for_presser or self.card


@dataclass(frozen=True)
class Show:
    """Answer with a card for the one who pressed alone (a form, a refresh); nothing is edited."""

    card: Message


@dataclass(frozen=True)
class _Problem:
    """An unknown verb, a refused actor, a stale card or a failed handler: for the presser alone."""

    card: Message


Answer = Reply | Replace | Show
Handler = Callable[[Press], Awaitable[Answer]]
# Whether this aadObjectId is a member of the Bureau's team; backed by the team roster.
BureauRoster = Callable[[TurnContext, str], Awaitable[bool]]


async def nobody_is_bureau(_: TurnContext, __: str) -> bool:
    """The roster until one is configured: Bureau verbs are refused to everyone."""
    return False


@dataclass(frozen=True)
class _Route:
    handler: Handler
    who: Who


@dataclass
class ActionRouter:
    """Verb -> handler, with who may press it; answers invokes and Action.Submit presses."""

    renderer: Renderer
    bureau_team_id: str = ""
    roster: BureauRoster = nobody_is_bureau
    _routes: dict[Verb, _Route] = field(default_factory=dict)
    _commands: dict[str, Verb] = field(default_factory=dict)
    _dialog_verbs: frozenset[Verb] = frozenset()

    def register(self, verb: Verb, handler: Handler, *, who: Who) -> None:
        if verb in self._routes:
            raise ValueError(f"verb {verb.value!r} already has a handler")
        self._routes[verb] = _Route(handler, who)

    def register_command(self, command: str, verb: Verb) -> None:
        """Let a typed command (a name in content/commands.yaml) press this verb's button."""
        self._commands[command] = verb

    async def on_command(self, turn_context: TurnContext, command: str | None) -> bool:
        """Answer a typed command that stands for a verb; False when it stands for none."""
        verb = self._commands.get(command or "")
        if verb is None:
            return False
        route = self._routes.get(verb)
        if (
            route is not None
            and route.who is Who.PERSONAL
            and conversation_scope(turn_context) != PERSONAL
        ):
            # Typed, not pressed: "this button is not for you" would not fit; say where it works.
            text = self.renderer.text("command_personal_only", lang_of(turn_context))
            await turn_context.send_activity(message_activity(text))
            return True
        answer = await self._answer(turn_context, verb.value, {})
        await turn_context.send_activities([message_activity(m) for m in _messages(answer)])
        return True

    def leave_to_dialogs(self, verbs: frozenset[Verb]) -> None:
        """The verbs the conversation's dialogs answer (they start or end a flow)."""
        self._dialog_verbs = verbs

    def handles_submit(self, activity: Activity) -> bool:
        """Whether this message is an Action.Submit press for this router to answer.

        Every press that names a verb, except the dialogs' own: a registered verb, and also an
        unknown or forged one, which gets the same card as an unknown Action.Execute.
        """
        value = activity.value
        if not isinstance(value, Mapping) or VERB_FIELD not in value:
            return False
        verb = verb_of(value.get(VERB_FIELD))
        return verb in self._routes or verb not in self._dialog_verbs

    async def on_submit(self, turn_context: TurnContext) -> None:
        """Answer an Action.Submit press (checked by `handles_submit`) with messages."""
        value = turn_context.activity.value
        answer = await self._answer(turn_context, value.get(VERB_FIELD), value)
        await turn_context.send_activities([message_activity(m) for m in _messages(answer)])

    async def on_invoke(self, turn_context: TurnContext) -> InvokeResponse:
        """Answer an `adaptiveCard/action` invoke; the response carries a card or a message."""
        action = turn_context.activity.value
        action = action.get("action") if isinstance(action, Mapping) else None
        if not isinstance(action, Mapping) or action.get("type") != "Action.Execute":
            action = {}
        data = action.get("data")
        answer = await self._answer(
            turn_context, action.get("verb"), data if isinstance(data, Mapping) else {}
        )
        if isinstance(answer, _Problem | Show):
            return _invoke_response(CARD_RESPONSE, answer.card.card)
        if isinstance(answer, Replace):
            reply_to = turn_context.activity.reply_to_id
            if reply_to:
                # The invoke response changes the card for the presser; everyone else sees
                # the new card once the message itself is updated.
                update = message_activity(answer.card)
                update.id = reply_to
                await turn_context.update_activity(update)
            return _invoke_response(CARD_RESPONSE, answer.answer.card)
        if answer.messages:
            await turn_context.send_activities([message_activity(m) for m in answer.messages])
        return _invoke_response(MESSAGE_RESPONSE, "")

    async def _answer(
        self, turn_context: TurnContext, raw_verb: object, data: Mapping[str, Any]
    ) -> Answer | _Problem:
        lang = lang_of(turn_context)
        verb = verb_of(raw_verb)
        route = self._routes.get(verb) if verb is not None else None
        if verb is None or route is None:
            return self._problem(lang, "action_unknown")
        sender = turn_context.activity.from_property
        actor = sender.aad_object_id if sender is not None else None
        if not actor or not await self.may_act(turn_context, actor, route.who):
            log.info("press refused: verb %s", verb.value)  # no ids: they identify a person
            if actor and route.who is Who.PERSONAL:
                # A menu shown in a group chat or channel: the button is theirs, the place is not.
                return self._problem(lang, "action_personal_only")
            return self._problem(lang, "action_refused")
        press = Press(
            verb=verb,
            data={key: value for key, value in data.items() if key != VERB_FIELD},
            actor=actor,
            lang=lang,
            turn_context=turn_context,
        )
        try:
            return await route.handler(press)
        except StaleCard:
            return self._problem(lang, "action_stale")
        except DatabaseUnavailable:
            raise  # the turn's own answer: 503 and "try again in a moment" (bot/errors.py)
        except Exception as error:  # never CancelledError: that is no Exception
            # The class only: the message may hold what someone typed; no ids, as above.
            log.error("press failed: verb %s: %s", verb.value, type(error).__qualname__)
            return self._problem(lang, "action_failed")

    async def may_act(self, turn_context: TurnContext, actor: str, who: Who) -> bool:
        """Whether `actor` (the activity's aadObjectId) is `who`, here and now."""
        scope = conversation_scope(turn_context)
        if who is Who.ANYWHERE:
            return True
        if who is Who.PERSONAL:
            return scope == PERSONAL
        if scope != CHANNEL or not self.bureau_team_id:
            return False
        if team_id_of(turn_context.activity) != self.bureau_team_id:
            return False
        return await self.roster(turn_context, actor)

    def _problem(self, lang: Lang, problem: str) -> _Problem:
        return _Problem(self.renderer.card("action_problem", lang, problem=problem))


def team_id_of(activity: Activity) -> str | None:
    """The Teams team an activity came from (channelData.team.id), if any."""
    channel_data = activity.channel_data
    team = channel_data.get("team") if isinstance(channel_data, Mapping) else None
    team_id = team.get("id") if isinstance(team, Mapping) else None
    return team_id if isinstance(team_id, str) else None


def _messages(answer: Answer | _Problem) -> tuple[Message, ...]:
    """An answer as messages, for a press that is no invoke (Action.Submit, a typed command)."""
    if isinstance(answer, Reply):
        return answer.messages
    if isinstance(answer, Replace):
        return (answer.answer,)
    return (answer.card,)


def _invoke_response(kind: str, value: Any) -> InvokeResponse:
    # Plain JSON: the schema's AdaptiveCardInvokeResponse cannot hold a message's text.
    return InvokeResponse(status=200, body={"statusCode": 200, "type": kind, "value": value})


__all__ = [
    "INVOKE_NAME",
    "ActionRouter",
    "BureauRoster",
    "Handler",
    "Press",
    "Replace",
    "Reply",
    "Show",
    "StaleCard",
    "Who",
    "row_id_of",
    "team_id_of",
]
