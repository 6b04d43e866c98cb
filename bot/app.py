"""The composition root: builds storage, state, dialogs, the bot and the adapter in one place."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from aiohttp import web
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import speedups
from bot.actions import ActionRouter, BureauRoster
from bot.adapter import WegwijzerAdapter
from bot.bureau_actions import BureauActions
from bot.bureau_commands import register_bureau_commands
from bot.channel_commands import ChannelCommands
from bot.claims import production_auth_configuration
from bot.connector import CachingAuthentication, ConnectorHttp
from bot.devchat import add_dev_chat
from bot.dispatcher import Dispatcher, DispatchLimits
from bot.errors import describe, make_on_turn_error
from bot.guard import TenantGuard
from bot.handler import WegwijzerBot
from bot.jobs import register_jobs
from bot.log_safety import escape_control_characters_in_logs
from bot.menu_actions import register_menu_actions
from bot.metrics import REQUESTS_REFUSED, PassedGuards, TurnMetrics, serve_metrics
from bot.periodic import PeriodicJobs
from bot.preference_actions import register_preference_actions
from bot.readiness import Readiness
from bot.remember import RememberConversation
from bot.requester_actions import RequesterActions
from bot.roster import TeamRoster
from bot.sender import ProactiveSender
from bot.service_url import ServiceUrlPolicy
from bot.session_actions import SessionActions
from bot.session_bureau import SessionBureauActions
from bot.session_files import (
    CalendarFiles,
    ParticipantFiles,
    calendar_links_for,
    participant_links_for,
)
from bot.settings import Settings
from bot.tagged_input import RefuseTaggedInput
from bot.typing import ShowTyping
from content.loader import TOOLKIT_DIR, Catalog, load_catalog
from content.render import Renderer
from content.schema import LANGS
from content.search import SearchIndex
from content.templates import Templates, load_templates
from content.triage_rules import TriageRules, load_triage_rules
from content.verbs import Verb
from dialogs.answers import Answers
from dialogs.contact import BureauContact
from dialogs.finder import FinderDialog
from dialogs.help_request import HelpRequestDialog
from dialogs.main import MainDialog
from dialogs.replies import Replies
from services.bureau_desk import BureauDesk
from services.help_desk import BureauChannel, HelpDesk
from services.help_request_channel import CardTitles
from services.quiet_hours import QuietHours
from services.triage import Triage
from storage.bot_state import FastConversationState, SqlStorage, StockConversationState
from storage.breaker import breaker_for
from storage.crypto import TextCipher, cipher_for
from storage.db import create_engine, create_session_factory, ping
from storage.state_drivers import close_driver
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

REFUSED_STATUSES = frozenset({400, 401, 403, 413, 415})
JOBS_STOP_SECONDS = 10.0  # a periodic job's run in progress may finish within this on stop
MAX_BODY_BYTES = 256 * 1024  # Teams activities are far smaller; refuse anything bigger early


@dataclass(frozen=True)
class Wegwijzer:
    """What one running instance is made of; kept on the aiohttp app for tests and the CLI."""

    settings: Settings
    engine: AsyncEngine
    adapter: WegwijzerAdapter
    connector_http: ConnectorHttp
    bot: WegwijzerBot
    actions: ActionRouter
    # Typed commands in the Bureau's channel (bot/channel_commands.py): register them here.
    channel_commands: ChannelCommands
    roster: TeamRoster  # the Bureau's team members, for choosing a colleague
    bureau_channel: BureauChannel
    replies: Replies
    service_urls: ServiceUrlPolicy
    dispatcher: Dispatcher
    jobs: PeriodicJobs  # reminders, expiries: bot/jobs.py registers them
    calendar_files: CalendarFiles  # the .ics behind the sessions' calendar links
    participant_files: ParticipantFiles  # the Bureau's CSV behind a participant list's link
    proactive_http: ConnectorHttp
    cipher: TextCipher  # the help requests' free text, encrypted at rest
    help_desk: HelpDesk
    triage_rules: TriageRules
    readiness: Readiness


APP_KEY = web.AppKey("wegwijzer", Wegwijzer)


def build_dialogs(
    replies: Replies,
    catalog: Catalog,
    links: Mapping[str, str],
    actions: ActionRouter,
    *,
    search: SearchIndex,
    help_desk: HelpDesk,
    sealer: TextCipher,
) -> MainDialog:
    """Every conversation flow and card action, wired to its services."""
    answers = Answers(replies, catalog, search, links, help_desk.triage)
    contact = BureauContact.from_links(links)
    register_menu_actions(actions, replies.renderer, answers, contact)
    intake = HelpRequestDialog(
        replies, help_desk=help_desk, catalog=catalog, links=links, sealer=sealer
    )
    return MainDialog(
        replies,
        flows={Verb.FINDER: FinderDialog(replies, catalog, links), Verb.HELP_REQUEST: intake},
        answer_question=answers.answer_question,
        contact=contact,
    )


def card_titles(
    catalog: Catalog, known_viewers: Callable[[], Sequence[str]] | None = None
) -> CardTitles:
    """The toolkit's theme and offer titles in every language, for the Bureau's cards."""
    return CardTitles(
        themes={t.id: {lang: t.title(lang) for lang in LANGS} for t in catalog.themes.values()},
        offers={o.id: {lang: o.title(lang) for lang in LANGS} for o in catalog.offers.values()},
        known_viewers=known_viewers or (lambda: ()),
    )


def _toolkit_dir(settings: Settings) -> Path:
    return Path(settings.TOOLKIT_DIR) if settings.TOOLKIT_DIR else TOOLKIT_DIR


def _load_toolkit(settings: Settings) -> Catalog:
    return load_catalog(_toolkit_dir(settings))


def build(
    settings: Settings,
    *,
    templates: Templates | None = None,
    catalog: Catalog | None = None,
    bureau_roster: BureauRoster | None = None,
) -> Wegwijzer:
    """Build one instance of the bot from settings; nothing global, nothing started."""
    engine = create_engine(settings.DATABASE_URL, pool_size=settings.DATABASE_POOL_SIZE)
    session_factory = create_session_factory(engine)
    replies = Replies(templates or load_templates())
    # Every change to Bot Framework internals, checked and applied here (bot/speedups.py).
    applied = speedups.apply(speedups=settings.SPEEDUPS)
    storage = SqlStorage(session_factory)
    conversation_state = (
        FastConversationState(storage) if applied.enabled else StockConversationState(storage)
    )
    catalog = catalog or _load_toolkit(settings)
    # Bad triage rules stop the bot here, like bad toolkit content, never in a chat.
    triage_rules = load_triage_rules(
        _toolkit_dir(settings), known_items={item.id: item for item in catalog.items()}
    )
    cipher = cipher_for(settings.ENCRYPTION_KEYS, production=settings.is_production)
    roster = TeamRoster(allowed_ids=settings.BUREAU_MEMBER_IDS)
    actions = ActionRouter(
        replies.renderer, bureau_team_id=settings.BUREAU_TEAM_ID, roster=bureau_roster or roster
    )
    bureau_channel = BureauChannel(
        uow_factory=partial(UnitOfWork, session_factory),
        team_id=settings.BUREAU_TEAM_ID,
        configured_channel_id=settings.BUREAU_CHANNEL_ID,
    )
    channel_commands = ChannelCommands(
        renderer=replies.renderer, router=actions, commands=replies.templates.commands
    )
    register_preference_actions(actions, replies.renderer, partial(UnitOfWork, session_factory))
    search = SearchIndex.build(catalog)
    help_desk_uow = partial(UnitOfWork, session_factory, cipher=cipher)
    help_desk = HelpDesk(
        uow_factory=help_desk_uow,
        triage=Triage(rules=triage_rules, catalog=catalog, search=search),
        channel=bureau_channel,
        titles=card_titles(catalog, partial(roster.known_mris, settings.BUREAU_TEAM_ID)),
    )
    register_bureau_commands(channel_commands, replies.renderer, help_desk, bureau_channel)
    BureauActions(
        renderer=replies.renderer,
        desk=BureauDesk(uow_factory=help_desk_uow, titles=help_desk.titles),
        roster=roster,
    ).register(actions)
    dialog = build_dialogs(
        replies,
        catalog,
        settings.links(),
        actions,
        search=search,
        help_desk=help_desk,
        sealer=cipher,
    )
    actions.leave_to_dialogs(dialog.verbs)
    calendar_links = calendar_links_for(settings)
    SessionActions(
        renderer=replies.renderer,
        uow_factory=partial(UnitOfWork, session_factory),
        rules=settings.session_rules(),
        offers_with_sessions=tuple(catalog.offers_with_sessions()),
        calendar=calendar_links,
        contact=BureauContact.from_links(settings.links()),
        preferences=partial(UnitOfWork, session_factory),
    ).register(actions)
    RequesterActions(
        renderer=replies.renderer,
        help_desk=help_desk,
        theme_titles={
            theme.id: {lang: theme.title(lang) for lang in LANGS}
            for theme in catalog.themes.values()
        },
    ).register(actions)
    participant_links = participant_links_for(settings)
    SessionBureauActions(
        renderer=replies.renderer,
        uow_factory=partial(UnitOfWork, session_factory),
        rules=settings.session_rules(),
        offers={
            offer: {lang: catalog.item(offer).title(lang) for lang in LANGS}
            for offer in catalog.offers_with_sessions()
        },
        participant_links=participant_links,
        viewers=partial(roster.known_mris, settings.BUREAU_TEAM_ID),
    ).register(actions, channel_commands)
    participant_files = ParticipantFiles(
        links=participant_links,
        renderer=replies.renderer,
        store_factory=partial(UnitOfWork, session_factory),
    )
    calendar_files = CalendarFiles(
        links=calendar_links,
        renderer=replies.renderer,
        store_factory=partial(UnitOfWork, session_factory),
        # An offer no longer in the toolkit leaves its sessions' events named by their theme.
        offer_title=lambda offer, lang: (
            catalog.offers[offer].title(lang) if offer in catalog.offers else ""
        ),
    )
    bot = WegwijzerBot(
        conversation_state=conversation_state,
        dialog=dialog,
        replies=replies,
        actions=actions,
        channel_commands=channel_commands,
    )
    connector_http = ConnectorHttp()
    auth_configuration = production_auth_configuration() if settings.is_production else None
    adapter = WegwijzerAdapter(
        CachingAuthentication(
            ConfigurationBotFrameworkAuthentication(
                settings, auth_configuration=auth_configuration
            ),
            connector_http,
        ),
        speedups=applied.enabled,
    )
    adapter.on_turn_error = make_on_turn_error(replies)
    adapter.use(TurnMetrics())
    adapter.use(
        TenantGuard(
            allowed_tenants=settings.ALLOWED_TENANT_IDS,
            allow_emulator=not settings.is_production,
        )
    )
    adapter.use(RefuseTaggedInput(replies))
    adapter.use(PassedGuards())
    adapter.use(
        RememberConversation(partial(UnitOfWork, session_factory), breaker=breaker_for(engine))
    )
    adapter.use(ShowTyping(delay=0.5, period=2.0))
    dispatcher, proactive_http = build_dispatcher(settings, engine, replies.templates, cipher)
    jobs = PeriodicJobs()
    # With the cipher: the help requests' jobs read their encrypted rows.
    register_jobs(
        jobs, settings=settings, uow_factory=partial(UnitOfWork, session_factory, cipher=cipher)
    )
    return Wegwijzer(
        settings=settings,
        engine=engine,
        adapter=adapter,
        connector_http=connector_http,
        bot=bot,
        actions=actions,
        channel_commands=channel_commands,
        roster=roster,
        bureau_channel=bureau_channel,
        replies=replies,
        service_urls=ServiceUrlPolicy(
            settings.ALLOWED_SERVICE_URL_HOSTS, allow_any_loopback=not settings.is_production
        ),
        dispatcher=dispatcher,
        jobs=jobs,
        calendar_files=calendar_files,
        participant_files=participant_files,
        proactive_http=proactive_http,
        cipher=cipher,
        help_desk=help_desk,
        triage_rules=triage_rules,
        readiness=Readiness(lambda: ping(engine)),
    )


def build_dispatcher(
    settings: Settings, engine: AsyncEngine, templates: Templates, cipher: TextCipher
) -> tuple[Dispatcher, ConnectorHttp]:
    """The outbox dispatcher, with a sender on an adapter of its own.

    `cipher` opens the messages' private fields (what a requester typed, a Bureau reply).

    The sender's adapter runs no turn middleware (a proactive send is no user's turn) and its
    HTTP client tries each call once: the dispatcher owns retries, within Teams' limits.
    """
    http = ConnectorHttp(attempts=1, timeout=settings.OUTBOX_SEND_TIMEOUT_SECONDS)
    adapter = WegwijzerAdapter(
        CachingAuthentication(ConfigurationBotFrameworkAuthentication(settings), http)
    )
    limits = DispatchLimits(
        rate_per_second=settings.OUTBOX_RATE_PER_SECOND,
        max_attempts=settings.OUTBOX_MAX_ATTEMPTS,
        send_timeout=settings.OUTBOX_SEND_TIMEOUT_SECONDS,
        lease_seconds=settings.OUTBOX_LEASE_SECONDS,
    )
    quiet_hours = QuietHours(
        start=settings.QUIET_HOURS_START,
        end=settings.QUIET_HOURS_END,
        weekends=settings.QUIET_HOURS_WEEKENDS,
        timezone=settings.QUIET_HOURS_TIMEZONE,
    )
    dispatcher = Dispatcher(
        engine,
        create_session_factory(engine),
        ProactiveSender(
            adapter,
            Renderer(templates),
            app_id=settings.APP_ID,
            extra_values=calendar_links_for(settings).values_for,
        ),
        limits=limits,
        quiet_hours=quiet_hours,
        tenant_id=settings.APP_TENANTID or None,
        cipher=cipher,
    )
    return dispatcher, http


async def _messages(request: web.Request) -> web.StreamResponse:
    response = await _handle_activity(request)
    if response.status in REFUSED_STATUSES:
        REQUESTS_REFUSED.labels(str(response.status)).inc()
    return response


async def _handle_activity(request: web.Request) -> web.StreamResponse:
    wegwijzer = request.app[APP_KEY]
    if request.content_type != "application/json":
        return web.Response(status=415)
    try:
        # json, not orjson: orjson reads integers past 64 bits as floats.
        body = json.loads(await request.read())
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json will go
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return web.Response(status=400, text="expected a Bot Framework activity")
    refused = wegwijzer.service_urls.refusal(body.get("serviceUrl"))
    if refused is not None:
        # The bot would send its reply (and its token) there: never to a host not on the list.
        log.warning("refused activity: %s", refused)
        return web.Response(status=400, text="serviceUrl not accepted")
    return await wegwijzer.adapter.process_body(
        body, request.headers.get("Authorization", ""), wegwijzer.bot
    )


@web.middleware
async def _errors_never_leak(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Whatever fails in a handler: a 500 and a short line in the log, never a traceback."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise  # aiohttp's own answers (404, 405, 413, ...)
    except Exception as error:
        log.error("request failed: %s", describe(error))
        return web.Response(status=500)


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    ready = await request.app[APP_KEY].readiness.ready()
    return web.json_response(
        {"status": "ok" if ready else "database unreachable"}, status=200 if ready else 503
    )


async def _start_background(app: web.Application) -> None:
    if app[APP_KEY].settings.OUTBOX_ENABLED:
        app[APP_KEY].dispatcher.start()
    if app[APP_KEY].settings.JOBS_ENABLED:
        app[APP_KEY].jobs.start()


async def _announce_shutdown(_: web.Application) -> None:
    log.info("shutting down: no new requests, finishing the turns in flight")


async def _dispose(app: web.Application) -> None:
    # On SIGTERM (after the turns in flight): no new sends or job runs; those running finish.
    await asyncio.gather(app[APP_KEY].dispatcher.stop(), app[APP_KEY].jobs.stop(JOBS_STOP_SECONDS))
    await app[APP_KEY].proactive_http.close()
    await app[APP_KEY].connector_http.close()
    await close_driver(app[APP_KEY].engine)
    await app[APP_KEY].engine.dispose()


def create_app(settings: Settings, *, templates: Templates | None = None) -> web.Application:
    """The aiohttp app: /api/messages, /healthz, /readyz, /metrics, and /dev/chat in development."""
    escape_control_characters_in_logs()
    settings.warn_about_development_defaults()
    if not settings.BUREAU_TEAM_ID:
        log.warning("BUREAU_TEAM_ID is not set: nobody can handle help requests in Teams")
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_errors_never_leak])
    app[APP_KEY] = build(settings, templates=templates)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", serve_metrics)
    app[APP_KEY].calendar_files.add_routes(app)
    app[APP_KEY].participant_files.add_routes(app)
    if not settings.is_production:
        add_dev_chat(app, settings, app[APP_KEY].replies.templates)
    app.on_startup.append(_start_background)
    app.on_shutdown.append(_announce_shutdown)
    app.on_cleanup.append(_dispose)
    return app


__all__ = ["APP_KEY", "Activity", "Wegwijzer", "build", "create_app"]
