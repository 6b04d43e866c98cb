"""The Bureau's own typed commands in its channel: linking the channel for help requests."""

from __future__ import annotations

from bot.channel_commands import ChannelCommand, ChannelCommands
from content.render import Message, Renderer
from services.help_desk import BureauChannel, HelpDesk

LINK = "bureau_link"  # its words are in content/commands.yaml


def register_bureau_commands(
    commands: ChannelCommands, renderer: Renderer, help_desk: HelpDesk, channel: BureauChannel
) -> None:
    """The link command: help requests are posted in the channel it is typed in from now on.

    Open requests that have no card yet (submitted while no channel was set) are posted there
    too; those posted elsewhere before stay where they are.
    """

    async def link(command: ChannelCommand) -> list[Message]:
        await channel.link(channel_id=command.channel_id, by=command.actor)
        await help_desk.post_waiting(command.channel_id)
        return [renderer.text("bureau_channel_linked", command.lang)]

    commands.register(LINK, link)
