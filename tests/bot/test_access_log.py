"""The access log names each request without the signed part of a link the bot serves."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.access_log import AccessLogger, loggable_path


def test_a_signed_link_is_logged_without_its_signature_and_no_query_ever(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = AccessLogger(logging.getLogger("test.access"), "")
    with caplog.at_level(logging.INFO, logger="test.access"):
        for target in (
            "/sessions/calendar/12-3-" + "A" * 43 + ".ics?lang=nl",
            "/sessions/participants/4-1800000000-" + "B" * 43 + ".csv?lang=en",
            "/api/messages?x=secret",
        ):
            logger.log(make_mocked_request("GET", target), web.Response(status=200), 0.01)

    assert [r.getMessage() for r in caplog.records] == [
        "GET /sessions/calendar/... 200 0.010s",
        "GET /sessions/participants/... 200 0.010s",
        "GET /api/messages 200 0.010s",
    ]
    assert loggable_path("/healthz") == "/healthz"
