"""Typed commands in the Bureau's channel: one seam, one check of who may, one handler each.

A Bureau member types a command in a channel of the Bureau's team, usually after @mentioning
the bot (the handler has dropped the mention by then): "koppel", "link this channel". The words
of each command are in `content/commands.yaml` under its name; what follows them is the
command's `argument`. A message that is no registered command goes on to the dialogs as before.

A command is carried out only for a member of the Bureau's team, in that team (the action
router's `Who.BUREAU` check: team id, then the roster); anyone else gets a short refusal and
nothing changes. The log names the command and the outcome, never the text or the person.

Adding a command: put its words in content/commands.yaml, then register a handler that takes
a `ChannelCommand` and returns the messages to answer with (in the same thread)::

    async def link(command: ChannelCommand) -> list[Message]:
        await bureau_channel.link(channel_id=command.channel_id, by=command.actor)
        return [renderer.text("bureau_channel_linked", command.lang)]

    channel_commands.register("bureau_link", link)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from botbuilder.core import TurnContext

from bot.actions import ActionRouter, Who, team_id_of
from content.render import Message, Renderer
from content.schema import Lang
from dialogs.replies import lang_of, message_activity

log = logging.getLogger(__name__)

CHANNEL = "channel"


@dataclass(frozen=True)
class ChannelCommand:
    """A command a Bureau member typed in a channel of the Bureau's team."""

    name: str  # its name in content/commands.yaml
    argument: str  # what followed the command's words, stripped (may be empty)
    actor: str  # the sender's aadObjectId, from the activity
    team_id: str
    channel_id: str  # the channel's conversation id, without ";messageid=..."
    lang: Lang
    turn_context: TurnContext


ChannelHandler = Callable[[ChannelCommand], Awaitable[Sequence[Message]]]


@dataclass
class ChannelCommands:
    """Command name -> handler, for messages in a channel; only the Bureau may use them."""

    renderer: Renderer
    router: ActionRouter  # decides who counts as the Bureau, for buttons and commands alike
    commands: Mapping[str, frozenset[str]]  # content/commands.yaml: name -> its words
    _handlers: dict[str, ChannelHandler] = field(default_factory=dict)

    def register(self, name: str, handler: ChannelHandler) -> None:
        if name not in self.commands:
            raise ValueError(f"command {name!r} has no words in content/commands.yaml")
        if name in self._handlers:
            raise ValueError(f"command {name!r} already has a handler")
        self._handlers[name] = handler

    def match(self, text: str | None) -> tuple[str, str] | None:
        """The registered command a text starts with, and what follows it; None if none."""
        typed = " ".join((text or "").split()).strip(" .!")
        lowered = typed.lower()
        best: tuple[int, str] | None = None
        for name in self._handlers:
            for words in self.commands[name]:
                said = lowered == words or lowered.startswith(words + " ")
                if said and (best is None or len(words) > best[0]):
                    best = (len(words), name)
        if best is None:
            return None
        return best[1], typed[best[0] :].strip()

    async def on_message(self, turn_context: TurnContext) -> bool:
        """Carry out a command typed in a channel; False when the message is none."""
        activity = turn_context.activity
        conversation = activity.conversation
        if conversation is None or conversation.conversation_type != CHANNEL or activity.value:
            return False
        matched = self.match(activity.text)
        if matched is None:
            return False
        name, argument = matched
        lang = lang_of(turn_context)
        sender = activity.from_property
        actor = sender.aad_object_id if sender is not None else None
        team_id = team_id_of(activity)
        if (
            not actor
            or not team_id
            or not await self.router.may_act(turn_context, actor, Who.BUREAU)
        ):
            log.info("channel command refused: %s", name)  # no ids: they identify a person
            refusal = self.renderer.text("channel_command_refused", lang)
            await turn_context.send_activity(message_activity(refusal))
            return True
        command = ChannelCommand(
            name=name,
            argument=argument,
            actor=actor,
            team_id=team_id,
            channel_id=channel_id_of(turn_context),
            lang=lang,
            turn_context=turn_context,
        )
        messages = await self._handlers[name](command)
        log.info("channel command: %s", name)
        if messages:
            await turn_context.send_activities([message_activity(m) for m in messages])
        return True


def channel_id_of(turn_context: TurnContext) -> str:
    """The channel's id: channelData.channel.id, else the conversation id without its thread."""
    activity = turn_context.activity
    channel_data = activity.channel_data
    channel = channel_data.get("channel") if isinstance(channel_data, Mapping) else None
    channel_id = channel.get("id") if isinstance(channel, Mapping) else None
    if isinstance(channel_id, str) and channel_id:
        return channel_id
    return str(activity.conversation.id).split(";", 1)[0]
