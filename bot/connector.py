"""Calls to the Bot Connector service over one pooled HTTP client, with clients built once.

The stock `CloudAdapter` builds a new msrest `ConnectorClient` and `UserTokenClient` for every
turn (half of a turn's CPU went into msrest's configuration and retry-policy objects) and sends
each reply through blocking `requests` in a thread pool, over a new TCP connection. Here:

- `CachingAuthentication` wraps the configured `BotFrameworkAuthentication`: every incoming
  request is still validated by it, in full; only the clients it hands out are kept, per app id,
  service URL and audience.
- `PooledConversations` sends, replies to, updates and deletes activities over one pooled
  aiohttp session, with the bearer token the same credentials would have signed msrest's
  request with. Tokens are fetched in a worker thread (MSAL is synchronous) and reused until
  shortly before they expire, so the event loop never waits on Azure AD.

These fix defects rather than save time, so they stay on with `SPEEDUPS=false`; the private
names `PooledConversations` relies on are checked at start-up by `bot.speedups`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections import OrderedDict
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import aiohttp
import jwt
import requests
from botbuilder.schema import (
    Activity,
    ConversationParameters,
    ConversationResourceResponse,
    ResourceResponse,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.aio.operations_async import ConversationsOperations
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from bot.wire import to_json_bytes

log = logging.getLogger(__name__)

USER_AGENT = "Wegwijzer-ID (BotBuilder Python 4.17; aiohttp)"
TOKEN_MARGIN = 300.0  # refresh a token five minutes before it expires
TOKEN_FALLBACK_LIFETIME = 600.0  # when a token's expiry cannot be read
MAX_CACHED_CLIENTS = 256
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
FIRST_RETRY_DELAY = 0.2  # seconds; later tries back off exponentially


class ConnectorError(Exception):
    """The Bot Connector answered with an error status (and, on 429, how long to wait)."""

    def __init__(self, status: int, method: str, retry_after: float | None = None) -> None:
        super().__init__(f"Bot Connector answered {status} to {method}")
        self.status = status
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header's delay in seconds (it may also be an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class _Transient(ConnectorError):
    """A status worth trying again: throttled or the service briefly unavailable."""


# Worth another try: a status above, or a connection refused or dropped. A call that ran out of
# its time is not tried again.
RETRIED_ERRORS = (_Transient, aiohttp.ClientConnectionError)


class ConnectorHttp:
    """The one HTTP session for the Bot Connector, and the tokens for its calls."""

    def __init__(self, *, attempts: int = 3, timeout: float = 30.0) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._attempts = attempts
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        # Keyed by the credentials object itself (not its id, which a new object may reuse).
        self._tokens: weakref.WeakKeyDictionary[AppCredentials, tuple[str, float]] = (
            weakref.WeakKeyDictionary()
        )
        self._token_locks: weakref.WeakKeyDictionary[AppCredentials, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
                # The Bot Connector authenticates by token; no cookie should carry over between
                # calls (or tenants), and not keeping them saves work on every response.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def call(
        self,
        method: str,
        url: str,
        credentials: AppCredentials,
        *,
        body: bytes | None = None,
        conversation_id: str | None = None,
    ) -> dict[str, Any]:
        """One call, tried again on a dropped connection, 429 or 502-504; its JSON answer."""
        try:  # the first try without building a retry policy: nearly every call succeeds
            return await self._call_once(method, url, credentials, body, conversation_id)
        except RETRIED_ERRORS:
            if self._attempts <= 1:
                raise
        await asyncio.sleep(FIRST_RETRY_DELAY)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts - 1),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            retry=retry_if_exception_type(RETRIED_ERRORS),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._call_once(method, url, credentials, body, conversation_id)
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    async def _call_once(
        self,
        method: str,
        url: str,
        credentials: AppCredentials,
        body: bytes | None,
        conversation_id: str | None,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        if conversation_id is not None:
            headers["x-ms-conversation-id"] = conversation_id
        token = await self.token(credentials)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        # No redirects: the connector answers where it is asked, and a redirect is no place to
        # follow with a token.
        async with self._http().request(
            method, url, data=body, headers=headers, allow_redirects=False
        ) as response:
            status = response.status
            if status == 401 and token is not None:
                self._tokens.pop(credentials, None)  # rejected: fetch a new one next time
            if status in RETRIED_STATUSES:
                raise _Transient(
                    status, method, retry_after_seconds(response.headers.get("Retry-After"))
                )
            if status >= 300:
                raise ConnectorError(status, method)
            if response.content_type != "application/json":
                return {}
            try:
                answer = json.loads(await response.read())
            except ValueError:
                return {}
        return answer if isinstance(answer, dict) else {}

    async def token(self, credentials: AppCredentials) -> str | None:
        """The bearer token for these credentials, or None when auth is off (no app id)."""
        app_id = credentials.microsoft_app_id
        if not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
            return None
        cached = self._tokens.get(credentials)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        lock = self._token_locks.setdefault(credentials, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(credentials)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            token: str = await asyncio.to_thread(credentials.get_access_token)
            self._tokens[credentials] = (
                token,
                time.monotonic() + _lifetime(token) - TOKEN_MARGIN,
            )
            return token


def _lifetime(token: str) -> float:
    """Seconds until the token expires, read from its own `exp` claim."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        return max(float(claims["exp"]) - time.time(), TOKEN_MARGIN)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return TOKEN_FALLBACK_LIFETIME + TOKEN_MARGIN


class PooledConversations(ConversationsOperations):
    """The conversation operations a turn uses, over the shared session; the rest via msrest."""

    def __init__(self, client: ConnectorClient, http: ConnectorHttp) -> None:
        super().__init__(client._client, client.config, client._serialize, client._deserialize)
        self._http = http
        self._base = str(client.config.base_url).rstrip("/") + "/v3/conversations/"
        self._credentials: AppCredentials = client.config.credentials

    def _url(self, conversation_id: str, activity_id: str | None = None) -> str:
        url = self._base + _path_segment(conversation_id) + "/activities"
        return url if activity_id is None else url + "/" + quote(activity_id, safe="")

    async def _activity_call(
        self, method: str, url: str, conversation_id: str, activity: Activity
    ) -> ResourceResponse:
        answer = await self._http.call(
            method,
            url,
            self._credentials,
            body=to_json_bytes(activity),
            conversation_id=conversation_id,
        )
        return ResourceResponse(id=answer.get("id"))

    async def send_to_conversation(
        self, conversation_id: str, activity: Activity, *_: Any, **__: Any
    ) -> ResourceResponse:
        return await self._activity_call(
            "POST", self._url(conversation_id), conversation_id, activity
        )

    async def reply_to_activity(
        self, conversation_id: str, activity_id: str, activity: Activity, *_: Any, **__: Any
    ) -> ResourceResponse:
        return await self._activity_call(
            "POST", self._url(conversation_id, activity_id), conversation_id, activity
        )

    async def update_activity(
        self, conversation_id: str, activity_id: str, activity: Activity, *_: Any, **__: Any
    ) -> ResourceResponse:
        return await self._activity_call(
            "PUT", self._url(conversation_id, activity_id), conversation_id, activity
        )

    async def create_conversation(
        self, parameters: ConversationParameters, *_: Any, **__: Any
    ) -> ConversationResourceResponse:
        """Open a conversation (a personal chat with one person, or a new channel thread)."""
        answer = await self._http.call(
            "POST",
            self._base.rstrip("/"),
            self._credentials,
            body=json.dumps(self._serialize.body(parameters, "ConversationParameters")).encode(),
        )
        return ConversationResourceResponse(
            id=answer.get("id"),
            activity_id=answer.get("activityId"),
            service_url=answer.get("serviceUrl"),
        )

    async def delete_activity(
        self, conversation_id: str, activity_id: str, *_: Any, **__: Any
    ) -> None:
        await self._http.call(
            "DELETE",
            self._url(conversation_id, activity_id),
            self._credentials,
            conversation_id=conversation_id,
        )


class CachingConnectorFactory(ConnectorFactory):
    """Hands out one connector client per service URL and audience, built on first use."""

    def __init__(self, inner: ConnectorFactory, http: ConnectorHttp) -> None:
        self._inner = inner
        self._http = http
        self._clients: OrderedDict[tuple[str, str | None], ConnectorClient] = OrderedDict()
        self._lock = asyncio.Lock()

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience)
        client = self._clients.get(key)
        if client is None:
            async with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = await self._inner.create(service_url, audience)
                    client.conversations = PooledConversations(client, self._http)
                    self._clients[key] = client
                    while len(self._clients) > MAX_CACHED_CLIENTS:
                        self._clients.popitem(last=False)
        self._clients.move_to_end(key)
        return client


class CachingAuthentication(BotFrameworkAuthentication):
    """The configured authentication, unchanged for validation; its clients kept per app id."""

    def __init__(self, inner: BotFrameworkAuthentication, http: ConnectorHttp) -> None:
        self._inner = inner
        self._http = http
        self._factories: dict[str, CachingConnectorFactory] = {}
        self._token_clients: dict[str, UserTokenClient] = {}

    def _factory(self, claims_identity: ClaimsIdentity) -> CachingConnectorFactory:
        app_id = _app_id(claims_identity)
        factory = self._factories.get(app_id)
        if factory is None:
            factory = CachingConnectorFactory(
                self._inner.create_connector_factory(claims_identity), self._http
            )
            self._factories[app_id] = factory
        return factory

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        # Every request is validated by the configured authentication, every time.
        try:
            result: AuthenticateRequestResult = await self._inner.authenticate_request(
                activity, auth_header
            )
        except PermissionError:
            raise
        except requests.RequestException:
            raise  # the signing keys could not be fetched: our problem, not the caller's
        except Exception as error:
            # The library lets a malformed token or a failed check escape as a DecodeError or a
            # bare Exception (a 500); to the caller it is what it is: not authorised.
            log.info("request refused: %s", type(error).__name__)
            raise PermissionError("the request's token is not valid") from error
        result.connector_factory = self._factory(result.claims_identity)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._factory(claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = _app_id(claims_identity)
        client = self._token_clients.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._token_clients[app_id] = client
        return client

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)


def _app_id(claims_identity: ClaimsIdentity) -> str:
    claims = claims_identity.claims or {}
    value = claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.get(
        AuthenticationConstants.APP_ID_CLAIM
    )
    return str(value or "")


@lru_cache(maxsize=4096)
def _path_segment(text: str) -> str:
    """`text` quoted as one URL path segment; a conversation's id comes back every turn."""
    return quote(text, safe="")
