"""Signing keys for incoming JWTs, fetched without blocking the event loop.

botframework-connector 4.17 refreshes the OpenID signing keys (once a day, and when a token
names a key it does not know) with blocking `requests.get` calls, without a timeout, on the
event loop: every turn in the process waits while Microsoft's metadata endpoint answers. It
also parses the key from its JWK for every request. `AsyncOpenIdMetadata` keeps the library's
rules (refresh daily, at most hourly for an unknown key) but fetches in a worker thread with a
timeout, lets concurrent requests share one refresh, and parses each key once.

Validation itself is unchanged: `JwtTokenExtractor` still checks issuer, signature, algorithm,
endorsements and expiry of every incoming token.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import requests
from botframework.connector.auth import jwt_token_extractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 10.0


class AsyncOpenIdMetadata(jwt_token_extractor._OpenIdMetadata):  # type: ignore[misc,name-defined,unused-ignore]
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url: str = url
        self.keys: list[dict[str, Any]] = []
        self.last_updated: datetime = datetime.min
        self._refreshing: asyncio.Lock | None = None
        self._parsed: dict[str, Any] = {}

    async def get(self, key_id: str) -> Any:
        if self.last_updated < datetime.now() - timedelta(days=1):
            await self._refresh_once(self.last_updated)
        key = self._find(key_id)
        if key is None and self.last_updated < datetime.now() - timedelta(hours=1):
            await self._refresh_once(self.last_updated)
            key = self._find(key_id)
        return key

    async def _refresh_once(self, seen: datetime) -> None:
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        async with self._refreshing:
            if self.last_updated != seen:  # another request refreshed while this one waited
                return
            keys = await asyncio.to_thread(_fetch_keys, self.url)
            self.keys, self._parsed = keys, {}
            self.last_updated = datetime.now()

    def _find(self, key_id: str) -> Any:
        if key_id in self._parsed:
            return self._parsed[key_id]
        matches = [key for key in self.keys if key.get("kid") == key_id]
        if not matches:
            return None  # the stock code raised IndexError here
        key = matches[0]
        config = jwt_token_extractor._OpenIdConfig(
            RSAAlgorithm.from_jwk(json.dumps(key)), key.get("endorsements", [])
        )
        self._parsed[key_id] = config
        return config


def _fetch_keys(url: str) -> list[dict[str, Any]]:
    response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS)
    response.raise_for_status()
    keys_response = requests.get(response.json()["jwks_uri"], timeout=FETCH_TIMEOUT_SECONDS)
    keys_response.raise_for_status()
    keys: list[dict[str, Any]] = keys_response.json()["keys"]
    log.info("signing keys refreshed: %d keys", len(keys))
    return keys


def use_async_signing_keys() -> None:
    """Make every `JwtTokenExtractor` in this process use `AsyncOpenIdMetadata` (idempotent)."""
    jwt_token_extractor._OpenIdMetadata = AsyncOpenIdMetadata
    cache = jwt_token_extractor.JwtTokenExtractor.metadataCache
    for url, metadata in list(cache.items()):
        if not isinstance(metadata, AsyncOpenIdMetadata):
            cache[url] = AsyncOpenIdMetadata(url)
