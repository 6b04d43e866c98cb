"""The real bot, built by its own composition root with benchmark settings."""

from __future__ import annotations

from aiohttp import web

from bench.scenario import TENANT
from bot.app import create_app
from bot.settings import Environment, Settings


def benchmark_settings(database_url: str, *, speedups: bool = True) -> Settings:
    """Development settings without APP_ID (no token checks), only the benchmark's tenant."""
    return Settings(
        _env_file=None,
        DATABASE_URL=database_url,
        ALLOWED_TENANT_IDS=[TENANT],
        ENVIRONMENT=Environment.DEVELOPMENT,
        LOG_LEVEL="WARNING",
        SPEEDUPS=speedups,
    )


def create_wegwijzer_app(database_url: str, *, speedups: bool = True) -> web.Application:
    return create_app(benchmark_settings(database_url, speedups=speedups))
