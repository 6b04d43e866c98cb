"""Files the sessions' cards link to, served by the bot itself: a place's calendar invitation,
and a session's participant list as CSV for the Bureau.

Teams cannot attach a file to a bot's card, so a card's "Zet in je agenda" button is an
`Action.OpenUrl` to `GET /sessions/calendar/<place>-<ticket>-<signature>.ics`. The link is
signed (bot/signed_links.py), so it needs no login and nobody can make one for another's place;
it always serves the place as it is now: the event, moved if the session moved, or its
cancellation (METHOD:CANCEL, same UID, higher SEQUENCE) once the place or the session is off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.settings import Settings
from bot.signed_links import SIGNATURE_PATTERN, LinkSigner, signer_for
from content.render import Renderer, pick_lang
from content.schema import Lang
from services.calendar import InvitationText, filename, invitation, place_invitation
from services.session_admin import participants_csv, session_lists
from services.session_types import AMSTERDAM, SessionInfo, SessionsStore

CALENDAR = "calendar"  # the links' purpose, signed with them
CALENDAR_ROUTE = (
    r"/sessions/calendar/{registration:\d{1,9}}-{ticket:\d{1,9}}-"
    "{signature:" + SIGNATURE_PATTERN + "}.ics"
)
PARTICIPANTS = "participants"
PARTICIPANTS_ROUTE = (
    r"/sessions/participants/{session:\d{1,9}}-{expires:\d{1,12}}-"
    "{signature:" + SIGNATURE_PATTERN + "}.csv"
)
# A participant list's download link is made for one Bureau member's press and soon stops
# working: the list holds names, and a link can travel further than the channel.
PARTICIPANTS_LINK_MINUTES = 15
# Outbox messages about a place whose card gets the calendar button: those that add or move
# the event, and those that take it out of the calendar again.
CALENDAR_TEMPLATES = frozenset(
    {"session_reminder", "session_changed", "session_cancelled", "session_removed"}
)

StoreFactory = Callable[[], AbstractAsyncContextManager[SessionsStore]]
OfferTitle = Callable[[str, Lang], str]


@dataclass(frozen=True)
class CalendarLinks:
    """Makes the signed calendar link of a place; needs no database."""

    signer: LinkSigner
    public_url: str

    def url(self, *, registration_id: int, ticket: int, lang: Lang) -> str:
        signature = self.signer.sign(CALENDAR, registration_id, ticket)
        path = f"/sessions/calendar/{registration_id}-{ticket}-{signature}.ics"
        return f"{self.public_url.rstrip('/')}{path}?lang={lang}"

    def values_for(self, template: str, data: Mapping[str, Any], lang: Lang) -> dict[str, Any]:
        """The calendar link an outbox message's card shows (for the proactive sender)."""
        registration_id, ticket = data.get("registration_id"), data.get("ticket")
        if (
            template not in CALENDAR_TEMPLATES
            or not isinstance(registration_id, int)
            or not isinstance(ticket, int)
        ):
            return {}
        return {"calendar_url": self.url(registration_id=registration_id, ticket=ticket, lang=lang)}


def calendar_links_for(settings: Settings) -> CalendarLinks:
    """The calendar links of this instance: its key and public address, from the settings."""
    signer = signer_for(settings.LINK_SIGNING_KEY, production=settings.is_production)
    return CalendarLinks(signer, settings.public_url())


def participant_links_for(settings: Settings) -> ParticipantLinks:
    """The participant lists' download links of this instance, from the settings."""
    signer = signer_for(settings.LINK_SIGNING_KEY, production=settings.is_production)
    return ParticipantLinks(signer, settings.public_url())


@dataclass(frozen=True)
class ParticipantLinks:
    """Makes the short-lived signed download link of a session's participant list."""

    signer: LinkSigner
    public_url: str
    minutes: int = PARTICIPANTS_LINK_MINUTES

    def url(self, *, session_id: int, now: datetime, lang: Lang) -> str:
        expires = int((now + timedelta(minutes=self.minutes)).timestamp())
        signature = self.signer.sign(PARTICIPANTS, session_id, expires)
        path = f"/sessions/participants/{session_id}-{expires}-{signature}.csv"
        return f"{self.public_url.rstrip('/')}{path}?lang={lang}"


@dataclass
class ParticipantFiles:
    """Serves the CSV behind a participant list's download link, while the link is valid."""

    links: ParticipantLinks
    renderer: Renderer
    store_factory: StoreFactory
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(PARTICIPANTS_ROUTE, self.participants)

    async def participants(self, request: web.Request) -> web.Response:
        session_id = int(request.match_info["session"])
        expires = int(request.match_info["expires"])
        if not self.links.signer.verify(
            request.match_info["signature"], PARTICIPANTS, session_id, expires
        ):
            raise web.HTTPNotFound
        if self.clock().timestamp() > expires:
            raise web.HTTPGone
        lang = pick_lang(request.query.get("lang"))
        async with self.store_factory() as uow:
            lists = await session_lists(uow=uow, session_id=session_id)
        if lists is None:
            raise web.HTTPNotFound
        text = self.renderer.templates.text
        header = [
            text(key, lang)
            for key in ("bureau_col_name", "bureau_col_function", "bureau_col_directorate")
        ]
        day = lists.session.starts_at.astimezone(AMSTERDAM).date().isoformat()
        file = text("bureau_lists_file", lang)
        return web.Response(
            body=participants_csv(lists.participants, header),
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": (
                    f'attachment; filename="{lists.session.offer}-{day}-{file}.csv"'
                ),
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


@dataclass
class CalendarFiles:
    """Serves the .ics file behind a calendar link."""

    links: CalendarLinks
    renderer: Renderer
    store_factory: StoreFactory
    offer_title: OfferTitle
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(CALENDAR_ROUTE, self.calendar)

    async def calendar(self, request: web.Request) -> web.Response:
        registration_id = int(request.match_info["registration"])
        ticket = int(request.match_info["ticket"])
        if not self.links.signer.verify(
            request.match_info["signature"], CALENDAR, registration_id, ticket
        ):
            raise web.HTTPNotFound  # the same answer as for a place that is not there
        lang = pick_lang(request.query.get("lang"))
        async with self.store_factory() as uow:
            found = await place_invitation(uow=uow, registration_id=registration_id, ticket=ticket)
        if found is None:
            raise web.HTTPNotFound
        session, method = found
        body = invitation(
            session=session,
            registration_id=registration_id,
            ticket=ticket,
            text=self._text(session, lang),
            method=method,
            stamp=self.clock(),
        )
        return web.Response(
            body=body,
            headers={
                "Content-Type": f"text/calendar; charset=utf-8; method={method.value}",
                "Content-Disposition": f'attachment; filename="{filename(session)}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def _text(self, session: SessionInfo, lang: Lang) -> InvitationText:
        text = self.renderer.templates.text
        lines = [text("session_calendar_theme", lang, theme=session.theme)]
        if session.questions:
            lines += ["", text("session_questions_intro", lang)]
            lines += [f"- {question}" for question in session.questions]
        lines += ["", text("session_agreement_title", lang)]
        lines += [
            f"- {text(key, lang)}"
            for key in (
                "session_agreement_trust",
                "session_agreement_listener",
                "session_agreement_list",
            )
        ]
        lines += ["", text("session_calendar_cancel", lang)]
        return InvitationText(
            summary=self.offer_title(session.offer, lang) or session.theme,
            description="\n".join(lines),
            location=session.location or text("session_location_unknown", lang),
        )
