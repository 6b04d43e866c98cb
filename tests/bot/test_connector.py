"""Replies over one pooled session, clients built once, tokens cached, brief failures retried."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import (
    AppCredentials,
    ClaimsIdentity,
    MicrosoftAppCredentials,
)

from bot.app import APP_KEY
from bot.connector import CachingAuthentication, ConnectorError, ConnectorHttp
from bot.local_connector import LocalConnector
from bot.settings import Settings
from tests.web.conftest import start_bot


class CountingCredentials(AppCredentials):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(app_id="bot-app-id")
        self.fetches = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.fetches += 1
        return f"token-{self.fetches}"


@pytest.fixture
async def connector() -> AsyncIterator[LocalConnector]:
    local = LocalConnector()
    await local.start()
    yield local
    await local.stop()


def message(text: str) -> Activity:
    return Activity(type=ActivityTypes.message, text=text)


async def test_a_brief_outage_is_retried_and_the_reply_arrives_once(tmp_path: Path) -> None:
    statuses = iter([503, 429])

    def unavailable_twice(_: web.Request) -> int | None:
        return next(statuses, None)

    async for running in start_bot(tmp_path, LocalConnector(fail_with=unavailable_twice)):
        status, messages = await running.send(running.user().says("menu"))
        assert status in (200, 201)
        assert len(messages) == 1 and messages[0]["attachments"], "the menu, once"


async def test_a_real_error_is_not_retried(connector: LocalConnector) -> None:
    calls: list[str] = []

    def bad_request(request: web.Request) -> int:
        calls.append(request.path)
        return 400

    failing = LocalConnector(fail_with=bad_request)
    await failing.start()
    http = ConnectorHttp()
    try:
        with pytest.raises(ConnectorError) as raised:
            await http.call(
                "POST",
                failing.url + "v3/conversations/c/activities",
                CountingCredentials(),
                body=b"{}",
            )
        assert raised.value.status == 400
        assert len(calls) == 1
    finally:
        await http.close()
        await failing.stop()


async def test_tokens_are_fetched_once_and_again_after_a_401(connector: LocalConnector) -> None:
    http = ConnectorHttp()
    credentials = CountingCredentials()
    url = connector.url + "v3/conversations/a%3Achat/activities"
    try:
        for _ in range(3):
            await http.call("POST", url, credentials, body=b'{"type": "message"}')
        assert credentials.fetches == 1
        assert {h["Authorization"] for _, _, h in connector.requests} == {"Bearer token-1"}

        rejected = LocalConnector(fail_with=lambda _: 401)
        await rejected.start()
        with pytest.raises(ConnectorError):
            await http.call(
                "POST", rejected.url + "v3/conversations/c/activities", credentials, body=b"{}"
            )
        await rejected.stop()
        await http.call("POST", url, credentials, body=b'{"type": "message"}')
        assert credentials.fetches == 2
        assert connector.requests[-1][2]["Authorization"] == "Bearer token-2"
    finally:
        await http.close()


async def test_no_token_is_sent_when_auth_is_off(connector: LocalConnector) -> None:
    http = ConnectorHttp()
    try:
        await http.call(
            "POST",
            connector.url + "v3/conversations/c/activities",
            MicrosoftAppCredentials.empty(),
            body=b'{"a": 1}',
        )
        assert "Authorization" not in connector.requests[0][2]
    finally:
        await http.close()


async def test_one_connector_client_per_service_url_and_audience() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    http = ConnectorHttp()
    auth = CachingAuthentication(ConfigurationBotFrameworkAuthentication(settings), http)
    identity = ClaimsIdentity({}, True)
    try:
        first = await auth.create_connector_factory(identity).create("http://a/", "aud")
        again = await auth.create_connector_factory(identity).create("http://a/", "aud")
        other_url = await auth.create_connector_factory(identity).create("http://b/", "aud")
        other_audience = await auth.create_connector_factory(identity).create("http://a/", "x")
        assert first is again
        assert other_url is not first and other_audience is not first
        token_client = await auth.create_user_token_client(identity)
        assert await auth.create_user_token_client(identity) is token_client
    finally:
        await http.close()


async def test_replies_go_to_the_teams_url_shape(tmp_path: Path) -> None:
    async for running in start_bot(tmp_path, LocalConnector()):
        user = running.user(conversation_id="a:1;messageid=17")
        activity: dict[str, Any] = user.says("menu")
        await running.send(activity)
        method, path, headers = running.connector.requests[-1]
        assert method == "POST"
        assert path == f"/v3/conversations/a:1;messageid=17/activities/{activity['id']}"
        assert headers["x-ms-conversation-id"] == "a:1;messageid=17"
        assert running.app[APP_KEY].connector_http is not None


async def _http_server(
    answer: Callable[[int], bytes | None],
) -> tuple[asyncio.Server, str, list[int]]:
    """A bare HTTP server, one request per connection: the n-th request gets `answer(n)`, or
    its connection closed without an answer if that is None."""
    seen: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            seen.append(len(seen) + 1)
            response = answer(len(seen))
            if response is not None:
                writer.write(response)
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/", seen


def _json_response(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


async def test_a_dropped_connection_is_tried_again() -> None:
    server, url, seen = await _http_server(
        lambda n: None if n == 1 else _json_response(b'{"id": "7"}')
    )
    http = ConnectorHttp()
    try:
        answer = await http.call(
            "POST", url + "v3/conversations/c/activities", CountingCredentials(), body=b"{}"
        )
        assert answer == {"id": "7"}
        assert len(seen) == 2  # the first try lost its connection, the second got through
    finally:
        await http.close()
        server.close()
        await server.wait_closed()


async def test_a_call_that_takes_too_long_fails_and_is_not_tried_again() -> None:
    async def too_slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        calls.append(1)
        await reader.readuntil(b"\r\n\r\n")
        await done.wait()
        writer.close()

    calls: list[int] = []
    done = asyncio.Event()
    server = await asyncio.start_server(too_slow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    http = ConnectorHttp(timeout=0.3)
    try:
        with pytest.raises(TimeoutError):
            await http.call(
                "POST",
                f"http://127.0.0.1:{port}/v3/conversations/c/activities",
                CountingCredentials(),
                body=b"{}",
            )
        assert calls == [1]
    finally:
        await http.close()
        done.set()
        server.close()
        await server.wait_closed()
