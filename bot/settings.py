"""One place for configuration: the environment and `.env`, checked before anything starts."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.service_url import TEAMS_SERVICE_URL_HOSTS, is_loopback
from services.session_messages import SessionRules
from storage.crypto import EncryptionKeyError, TextCipher
from storage.db import POSTGRES_DRIVER, SQLITE_DRIVER

log = logging.getLogger(__name__)


# Settings ending in _URL that are not a link of an offer.
NOT_OFFER_LINKS = frozenset(
    {"DATABASE_URL", "DEVELOPER_URL", "PRIVACY_URL", "TERMS_URL", "PUBLIC_URL"}
)


# What LOG_LEVEL may be: the levels of Python's logging, in any case.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


# What a setting checked against a pattern must look like, in words rather than the pattern.
PATTERNS_MEAN = {
    "BUREAU_CONTACT_EMAIL": "must be an e-mail address, e.g. bureau@example.org",
    "BUREAU_CONTACT_URL": "must be an https:// address",
    "TRAINING_INCLUSIEF_LEIDERSCHAP_URL": "must be an https:// address",
    "TOOLKIT_ID_URL": "must be an https:// address",
    "VERTROUWENSPERSOON_URL": "must be an https:// address",
    "PUBLIC_URL": "must be the bot's own address without a path, e.g. https://wegwijzer.example",
    "TEAMS_APP_VERSION": "must be three whole numbers with dots, e.g. 1.0.0",
}
REMINDER_DAYS = "reminder days are whole days from 1 to 60, comma-separated, e.g. 7,1"


# An entry of ALLOWED_SERVICE_URL_HOSTS: a host name, or "*." and a domain (or "*", refused later).
SERVICE_URL_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$|^\*\.?$")


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


# How much longer than a send (OUTBOX_SEND_TIMEOUT_SECONDS) an outbox lease lasts, at least twice
# over: for the outcome's write after the send, and clocks of two instances a little apart.
OUTBOX_LEASE_MARGIN = 10.0


class SettingsError(ValueError):
    """Configuration that is unsafe or incomplete; the message says what to set."""


class Settings(BaseSettings):
    """Settings for one bot instance.

    The Bot Framework fields keep the names `ConfigurationBotFrameworkAuthentication` reads
    (APP_ID, APP_PASSWORD, APP_TYPE, APP_TENANTID), so the settings object is passed to it as is.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    ENVIRONMENT: Environment = Environment.DEVELOPMENT
    APP_ID: str = ""
    APP_PASSWORD: str = Field(default="", repr=False)
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""
    HOST: str = "127.0.0.1"
    PORT: int = Field(default=3978, ge=1, le=65535)
    DATABASE_URL: str = "sqlite+aiosqlite:///./data/wegwijzer.db"
    # Connections this instance keeps to the database, for everything (bot state included).
    DATABASE_POOL_SIZE: int = Field(default=10, ge=3, le=100)
    ALLOWED_TENANT_IDS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    LOG_LEVEL: str = "INFO"
    # The changes to Bot Framework internals that only save time (bot/speedups.py); false runs
    # the stock code paths.
    SPEEDUPS: bool = True
    # The Teams team (its id, as in channelData.team.id) of Bureau I&D: only its members, in it,
    # may press the Bureau's buttons. Empty: nobody may.
    BUREAU_TEAM_ID: str = ""
    # The channel (its conversation id, 19:...@thread.tacv2) new help requests are posted in,
    # until a Bureau member links another with the link command. Empty: only a linked one.
    BUREAU_CHANNEL_ID: str = ""
    # Optional: only these aadObjectIds, among the team's members, act as the Bureau.
    BUREAU_MEMBER_IDS: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # json: one JSON object per line (what production's log collector reads); auto: json in
    # production, text elsewhere.
    LOG_FORMAT: Literal["auto", "json", "text"] = "auto"
    # On SIGTERM `wegwijzer serve` stops taking requests and waits this long for the turns in
    # flight; Teams gives up on a turn after 15 s anyway.
    SHUTDOWN_TIMEOUT_SECONDS: float = Field(default=15.0, gt=0, le=120)
    # The toolkit folder; empty means the one shipped in content/toolkit.
    TOOLKIT_DIR: str = ""
    # Links the toolkit's offers point at (their `link_setting`); the Bureau fills them in.
    TRAINING_INCLUSIEF_LEIDERSCHAP_URL: str = Field(default="", pattern=r"^$|^https://\S+$")
    TOOLKIT_ID_URL: str = Field(default="", pattern=r"^$|^https://\S+$")
    VERTROUWENSPERSOON_URL: str = Field(default="", pattern=r"^$|^https://\S+$")
    # Development only: serve without authentication (APP_ID empty) on a host other than loopback.
    ALLOW_UNAUTHENTICATED_ON_NETWORK: bool = False
    # The hosts replies may go to (an activity's serviceUrl); "*.x" matches x's subdomains.
    ALLOWED_SERVICE_URL_HOSTS: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(TEAMS_SERVICE_URL_HOSTS)
    )
    # Sessions: reminders this many days before (comma-separated), and how long someone from the
    # waiting list has to take an offered place.
    SESSION_REMINDER_DAYS: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [7, 1])
    SESSION_OFFER_HOURS: int = Field(default=24, ge=1, le=14 * 24)
    # How a manager reaches Bureau I&D where the bot has no flow yet; an empty one is left out.
    BUREAU_CONTACT_EMAIL: str = Field(default="", pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    BUREAU_CONTACT_URL: str = Field(default="", pattern=r"^$|^https://\S+$")
    # The outbox dispatcher (bot/dispatcher.py): Teams allows about 50 proactive messages a
    # second per tenant; staying well under leaves room for replies in turns.
    OUTBOX_ENABLED: bool = True
    OUTBOX_RATE_PER_SECOND: float = Field(default=20.0, gt=0, le=50)
    OUTBOX_MAX_ATTEMPTS: int = Field(default=6, ge=1, le=50)
    OUTBOX_SEND_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0, le=300)
    OUTBOX_LEASE_SECONDS: float = Field(default=120.0, gt=0)
    # The periodic jobs (bot/periodic.py, registered in bot/jobs.py): reminders, expiries.
    JOBS_ENABLED: bool = True
    # Quiet hours for messages that can wait (reminders, notices): local time, and weekends.
    QUIET_HOURS_START: time = time(20, 0)
    QUIET_HOURS_END: time = time(8, 0)
    QUIET_HOURS_WEEKENDS: bool = True
    QUIET_HOURS_TIMEZONE: str = "Europe/Amsterdam"
    # The Teams app package (`wegwijzer manifest build`): its own id, version and the pages
    # Teams links to from the app's details.
    TEAMS_APP_ID: str = ""
    TEAMS_APP_VERSION: str = Field(default="1.0.0", pattern=r"^\d+\.\d+\.\d+$")
    DEVELOPER_NAME: str = Field(default="Gemeente Amsterdam", max_length=32)
    DEVELOPER_URL: str = ""
    PRIVACY_URL: str = ""
    TERMS_URL: str = ""
    # Fernet keys for the free text of help requests, comma-separated; the first encrypts, all
    # decrypt (rotation). Required in production; development generates one into ./data/.
    ENCRYPTION_KEYS: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    # The bot's own address as people's browsers reach it (https://host, no path), for the files
    # it serves behind a link (a session's calendar invitation, the Bureau's CSV). Empty in
    # development: http://HOST:PORT.
    PUBLIC_URL: str = Field(default="", pattern=r"^$|^https?://[^/\s?#]+$")
    # The key that signs those links (at least 32 characters), so nobody can guess another's.
    # Required in production; development generates one into ./data/.
    LINK_SIGNING_KEY: str = Field(default="", repr=False)
    # Help requests not claimed, or not closed, within this many working days are raised again.
    HELP_CLAIM_WORKING_DAYS: int = Field(default=2, ge=1, le=60)
    HELP_CLOSE_WORKING_DAYS: int = Field(default=10, ge=1, le=120)

    @field_validator(
        "ALLOWED_TENANT_IDS",
        "ALLOWED_SERVICE_URL_HOSTS",
        "ENCRYPTION_KEYS",
        "BUREAU_MEMBER_IDS",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("ALLOWED_SERVICE_URL_HOSTS")
    @classmethod
    def _bare_hosts(cls, value: list[str]) -> list[str]:
        # A host is matched against the serviceUrl's host alone: an entry with a scheme, a port or
        # a path would match nothing, and every reply would be refused.
        for host in value:
            if not SERVICE_URL_HOST.match(host) and not _is_ip_address(host):
                raise SettingsError(
                    f"ALLOWED_SERVICE_URL_HOSTS: {host!r} is not a host name: give names only, "
                    "without https:// or a port or a path, e.g. "
                    + ",".join(TEAMS_SERVICE_URL_HOSTS)
                )
        return value

    @field_validator("LOG_LEVEL")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL: must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("DATABASE_URL")
    @classmethod
    def _known_database(cls, value: str) -> str:
        # Never the URL itself in the message: it may hold a password.
        expected = (
            f"{SQLITE_DRIVER}:///path/to/file.db or {POSTGRES_DRIVER}://user:password@host/db"
        )
        try:
            scheme = make_url(value).drivername
        except (ArgumentError, ValueError):
            raise SettingsError(f"DATABASE_URL: not a database URL; use {expected}") from None
        if scheme not in (SQLITE_DRIVER, POSTGRES_DRIVER):
            raise SettingsError(f"DATABASE_URL: {scheme}: is not supported; use {expected}")
        return value

    @field_validator("ENCRYPTION_KEYS")
    @classmethod
    def _fernet_keys(cls, value: list[str]) -> list[str]:
        if value:
            try:
                TextCipher(value)
            except EncryptionKeyError as error:  # its message says which key, never the key
                raise SettingsError(f"ENCRYPTION_KEYS: {error}") from None
        return value

    @field_validator("SESSION_REMINDER_DAYS", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return [int(part) for part in value.split(",") if part.strip()]
            except ValueError:
                raise ValueError(REMINDER_DAYS) from None
        return value

    @field_validator("SESSION_REMINDER_DAYS")
    @classmethod
    def _positive_days(cls, value: list[int]) -> list[int]:
        if any(day < 1 or day > 60 for day in value):
            raise ValueError(REMINDER_DAYS)
        return sorted(set(value), reverse=True)

    # Production's own check comes first, so that it names every missing setting at once.
    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.ENVIRONMENT is Environment.PRODUCTION:
            problems = production_problems(self)
            if problems:
                raise SettingsError("\n".join(problems))
        return self

    @model_validator(mode="after")
    def _refuse_unauthenticated_network(self) -> Self:
        if self.APP_ID or is_loopback(self.HOST) or self.ALLOW_UNAUTHENTICATED_ON_NETWORK:
            return self
        raise SettingsError(
            f"refusing to serve without authentication on HOST={self.HOST}: set APP_ID, "
            "or HOST=127.0.0.1, or ALLOW_UNAUTHENTICATED_ON_NETWORK=true (development only)"
        )

    @model_validator(mode="after")
    def _refuse_unsafe_service_urls(self) -> Self:
        if "*" in self.ALLOWED_SERVICE_URL_HOSTS or "*." in self.ALLOWED_SERVICE_URL_HOSTS:
            raise SettingsError("ALLOWED_SERVICE_URL_HOSTS may not allow every host ('*')")
        return self

    @model_validator(mode="after")
    def _check_outbox(self) -> Self:
        try:
            ZoneInfo(self.QUIET_HOURS_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"QUIET_HOURS_TIMEZONE {self.QUIET_HOURS_TIMEZONE!r} is not a known time zone"
            ) from None
        if self.OUTBOX_LEASE_SECONDS < self.OUTBOX_SEND_TIMEOUT_SECONDS + 2 * OUTBOX_LEASE_MARGIN:
            raise SettingsError(
                "OUTBOX_LEASE_SECONDS must be at least OUTBOX_SEND_TIMEOUT_SECONDS + "
                f"{2 * OUTBOX_LEASE_MARGIN:g}: a lease must outlast any send"
            )
        return self

    def links(self) -> dict[str, str]:
        """The filled-in links and the Bureau's contact address, by setting name."""
        return {
            name: value
            for name, value in self.model_dump().items()
            if value
            and (
                name == "BUREAU_CONTACT_EMAIL"
                or (name.endswith("_URL") and name not in NOT_OFFER_LINKS)
            )
        }

    def public_url(self) -> str:
        """The bot's own address for links people open: PUBLIC_URL, else http://HOST:PORT."""
        return self.PUBLIC_URL or f"http://{self.HOST}:{self.PORT}"

    def session_rules(self) -> SessionRules:
        """The sessions' reminder and waiting-list settings, for the services."""
        return SessionRules(
            reminder_offsets=tuple(timedelta(days=days) for days in self.SESSION_REMINDER_DAYS),
            offer_window=timedelta(hours=self.SESSION_OFFER_HOURS),
        )

    @property
    def is_production(self) -> bool:
        return self.ENVIRONMENT is Environment.PRODUCTION

    @property
    def json_logs(self) -> bool:
        return self.LOG_FORMAT == "json" or (self.LOG_FORMAT == "auto" and self.is_production)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.APP_ID)

    def warn_about_development_defaults(self) -> None:
        """Log what a development configuration lets through that production would not."""
        if self.is_production:
            return
        if not self.ALLOWED_TENANT_IDS:
            log.warning("ALLOWED_TENANT_IDS is not set: accepting any tenant (development only)")
        if not self.APP_ID:
            log.warning("APP_ID is not set: requests are not authenticated (development only)")
        if not self.APP_ID and not is_loopback(self.HOST):
            log.warning(
                "serving without authentication on %s: ALLOW_UNAUTHENTICATED_ON_NETWORK is set",
                self.HOST,
            )


@dataclass(frozen=True)
class Requirement:
    """A setting production refuses to start without: `problem` says what is wrong, or None."""

    setting: str
    problem: Callable[[Settings], str | None]


def required(setting: str, what: str) -> Requirement:
    """A setting that must not be empty in production."""
    return Requirement(setting, lambda s: None if getattr(s, setting) else f"not set ({what})")


# An Entra application (client) id, as the Azure portal shows it.
GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _app_id(settings: Settings) -> str | None:
    if not settings.APP_ID:
        return "not set (the bot's Entra app registration)"
    if GUID.match(settings.APP_ID):
        return None
    # Not secret, but a wrong value here is often a secret pasted into the wrong field.
    return "must be the app registration's application (client) id, a GUID"


def _postgres(settings: Settings) -> str | None:
    if settings.DATABASE_URL.startswith("postgresql+asyncpg://"):
        return None
    # Only the scheme: the URL may hold a password.
    scheme = settings.DATABASE_URL.partition(":")[0]
    return f"must be postgresql+asyncpg://user:password@host/db (instances share it), not {scheme}:"


# What production checks at start, in this order; every flow that needs a setting in production
# adds its Requirement here, so `wegwijzer serve` names every missing one at once.
PRODUCTION_REQUIREMENTS: list[Requirement] = [
    Requirement("APP_ID", _app_id),
    required("APP_PASSWORD", "the client secret of that registration"),
    required("APP_TENANTID", "the city's tenant id, where the app is registered"),
    Requirement(
        "APP_TYPE",
        lambda s: (
            None
            if s.APP_TYPE == "SingleTenant"
            else f"must be SingleTenant (the city's own tenant), not {s.APP_TYPE!r}"
        ),
    ),
    required("ALLOWED_TENANT_IDS", "the city's tenant id, whose Teams users are answered"),
    required(
        "ALLOWED_SERVICE_URL_HOSTS",
        "the Bot Connector's hosts, e.g. " + ",".join(TEAMS_SERVICE_URL_HOSTS),
    ),
    Requirement(
        "ALLOW_UNAUTHENTICATED_ON_NETWORK",
        lambda s: (
            "must be false (it is for development only)"
            if s.ALLOW_UNAUTHENTICATED_ON_NETWORK
            else None
        ),
    ),
    Requirement("DATABASE_URL", _postgres),
    required("ENCRYPTION_KEYS", "Fernet keys for the help requests' free text"),
    Requirement(
        "PUBLIC_URL",
        lambda s: (
            None
            if s.PUBLIC_URL.startswith("https://")
            else "must be the bot's https address (https://host), for its calendar and CSV links"
        ),
    ),
    Requirement(
        "LINK_SIGNING_KEY",
        lambda s: (
            None
            if len(s.LINK_SIGNING_KEY) >= 32
            else "must be a random secret of at least 32 characters (it signs the bot's links)"
        ),
    ),
]


def production_problems(settings: Settings) -> list[str]:
    """One line per production requirement these settings fail, naming the setting."""
    return [
        f"{requirement.setting}: {problem}"
        for requirement in PRODUCTION_REQUIREMENTS
        if (problem := requirement.problem(settings))
    ]


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation errors into one readable SettingsError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError("\n".join(_reasons(error))) from None


def _reasons(error: ValidationError) -> list[str]:
    """One line per problem: a production check's own lines, else the setting and the error."""
    reasons = []
    for problem in error.errors():
        cause = problem.get("ctx", {}).get("error")
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        if isinstance(cause, SettingsError):
            reasons += str(cause).splitlines()
        elif isinstance(cause, ValueError):  # a validator's own words, without "Value error, "
            reasons.append(f"{where}: {cause}")
        elif problem["type"] == "string_pattern_mismatch" and where in PATTERNS_MEAN:
            reasons.append(f"{where}: {PATTERNS_MEAN[where]}")
        else:
            reasons.append(f"{where}: {problem['msg']}")
    return reasons
