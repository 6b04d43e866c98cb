"""With production settings every request must carry a valid Bot Framework JWT, and replies a token.

Microsoft's endpoints cannot be reached from tests, so the channel's OpenID metadata and signing
keys are served on loopback (the URL the library reads them from is pointed there) and Azure AD's
token for outgoing calls is replaced by a fixed one. Everything in between is the real adapter
and validation.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from botframework.connector.auth import (
    AuthenticationConstants,
    ChannelValidation,
    MicrosoftAppCredentials,
)
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.local_connector import LocalConnector
from tests.web.conftest import RunningBot, start_bot

APP_ID = "00000000-0000-0000-0000-00000000b0b0"
PRODUCTION = {
    "ENVIRONMENT": "production",
    "APP_ID": APP_ID,
    "APP_PASSWORD": "not-a-real-secret",
    "APP_TYPE": "SingleTenant",
    "APP_TENANTID": "city-tenant",
    # The local connector the replies go to, on loopback over http (production accepts that
    # only for a loopback host listed here).
    "ALLOWED_SERVICE_URL_HOSTS": ["127.0.0.1"],
    "ENCRYPTION_KEYS": "HuvrbTaHWY13tJXDANuCQYu5iMNc2OhvSRlsVqbv9kQ=",
    "PUBLIC_URL": "https://wegwijzer.example",
    "LINK_SIGNING_KEY": "test-only-link-signing-key-0123456789abcdef",
}
OUTGOING_TOKEN = "token-from-azure-ad"
ISSUER = "https://api.botframework.com"


class SigningKeys:
    """OpenID metadata and a JWKS on loopback, optionally slow to answer.

    Served from a thread of its own, like Microsoft's endpoint would be from elsewhere: a bot that
    fetched keys on its event loop would block there, and the stall test would see it.
    """

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key"
        self.delay = 0.0
        self.fetches = 0
        self.url = ""
        self._server: ThreadingHTTPServer | None = None

    async def start(self) -> None:
        keys = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/metadata"):
                    keys.fetches += 1
                    time.sleep(keys.delay)
                    body: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": keys.url + "/keys"}
                else:
                    jwk = RSAAlgorithm.to_jwk(keys.key.public_key(), as_dict=True)
                    jwk.update(kid=keys.kid, use="sig", endorsements=["msteams"])
                    body = {"keys": [jwk]}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def token(self, service_url: str, **overrides: Any) -> str:
        claims = {
            "iss": ISSUER,
            "aud": APP_ID,
            "serviceurl": service_url,
            "nbf": int(time.time()) - 10,
            "exp": int(time.time()) + 600,
            **overrides,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture
async def keys(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SigningKeys]:
    served = SigningKeys()
    await served.start()
    # A fresh URL per test, so the library's process-wide metadata cache starts empty.
    monkeypatch.setattr(
        ChannelValidation, "open_id_metadata_endpoint", f"{served.url}/metadata?{uuid.uuid4()}"
    )
    monkeypatch.setattr(
        MicrosoftAppCredentials,
        "get_access_token",
        lambda self, force_refresh=False: OUTGOING_TOKEN,
    )
    yield served
    await served.stop()


@pytest.fixture
async def production_bot(
    tmp_path: Path, keys: SigningKeys, postgres_url: str
) -> AsyncIterator[RunningBot]:
    # Production runs on PostgreSQL only (bot/settings.py refuses anything else).
    async for running in start_bot(tmp_path, LocalConnector(), postgres_url, **PRODUCTION):
        yield running


async def post(running: RunningBot, activity: dict[str, Any], authorization: str | None) -> int:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with running.http.post(
        running.url + "/api/messages", json=activity, headers=headers
    ) as response:
        return response.status


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"],
    ids=["no header", "empty", "no token", "garbage", "wrong scheme"],
)
async def test_production_refuses_a_request_without_a_valid_token(
    production_bot: RunningBot, authorization: str | None
) -> None:
    status = await post(production_bot, production_bot.user().says("menu"), authorization)
    assert status == 401
    assert production_bot.connector.received == []


async def test_a_token_signed_by_another_key_or_for_another_bot_is_refused(
    production_bot: RunningBot, keys: SigningKeys
) -> None:
    user = production_bot.user()
    service_url = production_bot.connector.url
    stranger = SigningKeys()  # same kid, different key: the signature cannot match
    forged = jwt.encode(
        {"iss": ISSUER, "aud": APP_ID, "serviceurl": service_url, "exp": int(time.time()) + 600},
        stranger.key,
        algorithm="RS256",
        headers={"kid": keys.kid},
    )
    other_bot = keys.token(service_url, aud="another-bot")
    expired = keys.token(service_url, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200)
    other_service = keys.token("https://evil.example/")
    for token in (forged, other_bot, expired, other_service):
        assert await post(production_bot, user.says("menu"), f"Bearer {token}") == 401
    assert production_bot.connector.received == []


async def test_a_valid_token_is_accepted_and_the_reply_carries_the_bots_own_token(
    production_bot: RunningBot, keys: SigningKeys
) -> None:
    token = keys.token(production_bot.connector.url)
    status = await post(production_bot, production_bot.user().says("menu"), f"Bearer {token}")
    assert status in (200, 201)
    assert production_bot.connector.messages(), "the menu reached the connector"
    authorizations = {
        headers.get("Authorization") for _, _, headers in production_bot.connector.requests
    }
    assert authorizations == {f"Bearer {OUTGOING_TOKEN}"}


async def test_fetching_signing_keys_does_not_block_the_event_loop(
    production_bot: RunningBot, keys: SigningKeys
) -> None:
    # Microsoft's metadata endpoint on a slow day. A fetch on the loop would stall it for the
    # whole delay; the bound is half of that, so a busy machine's scheduling noise cannot fail it.
    keys.delay = 1.5
    stalls: list[float] = []

    async def tick() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            stalls.append(time.perf_counter() - before - 0.01)

    ticker = asyncio.create_task(tick())
    token = keys.token(production_bot.connector.url)
    statuses = await asyncio.gather(
        *(
            post(production_bot, production_bot.user().says("menu"), f"Bearer {token}")
            for _ in range(3)
        )
    )
    ticker.cancel()
    assert all(status in (200, 201) for status in statuses)
    assert keys.fetches == 1, "concurrent requests share one refresh"
    assert max(stalls) < keys.delay / 2, (
        f"the loop stalled {max(stalls):.3f} s while keys were fetched"
    )


async def test_the_bot_answers_on_the_loop_while_keys_are_fetched(
    production_bot: RunningBot, keys: SigningKeys
) -> None:
    # Health checks must keep answering while a slow key refresh is under way.
    keys.delay = 1.5
    token = keys.token(production_bot.connector.url)
    started = time.perf_counter()
    turn = asyncio.create_task(
        post(production_bot, production_bot.user().says("menu"), f"Bearer {token}")
    )
    await asyncio.sleep(0.1)  # the turn is now waiting for the keys
    async with production_bot.http.get(production_bot.url + "/healthz") as response:
        assert response.status == 200
    assert time.perf_counter() - started < keys.delay / 2 + 0.1, (
        "the health check waited for the key refresh"
    )
    assert await turn in (200, 201)


async def test_a_request_without_token_is_refused_without_any_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    def no_network(*_: object, **__: object) -> None:
        raise AssertionError("no network call may be needed to refuse a request without token")

    monkeypatch.setattr("requests.get", no_network)
    async for running in start_bot(tmp_path, LocalConnector(), postgres_url, **PRODUCTION):
        assert await post(running, running.user().says("menu"), None) == 401
        assert running.connector.received == []


EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"


async def test_production_refuses_an_emulator_token_which_skips_the_service_url_check(
    production_bot: RunningBot, keys: SigningKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The library checks the serviceurl claim of channel tokens only; an Emulator token (Azure
    # AD's, for the bot's app id) would let its holder name any serviceUrl.
    monkeypatch.setattr(
        AuthenticationConstants,
        "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL",
        f"{keys.url}/metadata?{uuid.uuid4()}",
    )
    token = keys.token("", iss=EMULATOR_ISSUER, ver="1.0", appid=APP_ID)
    status = await post(production_bot, production_bot.user().says("menu"), f"Bearer {token}")
    assert status == 401
    assert production_bot.connector.received == []


async def test_production_sends_nothing_to_a_service_url_off_the_list(
    production_bot: RunningBot, keys: SigningKeys
) -> None:
    attacker = LocalConnector()
    await attacker.start()
    try:
        # The same machine under another name: not on ALLOWED_SERVICE_URL_HOSTS.
        elsewhere = attacker.url.replace("127.0.0.1", "localhost")
        user = production_bot.user()
        user.service_url = elsewhere
        token = keys.token(elsewhere)
        status = await post(production_bot, user.says("menu"), f"Bearer {token}")
        assert status == 400
        assert attacker.requests == []
    finally:
        await attacker.stop()
