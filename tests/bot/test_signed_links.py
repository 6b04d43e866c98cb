"""Signed links: a signature fits its purpose and parts only, and the key comes from settings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.signed_links import LinkSigner, signer_for

KEY = "test-only-link-signing-key-0123456789abcdef"


def test_a_signature_fits_only_its_purpose_and_parts() -> None:
    signer = LinkSigner(KEY)
    signature = signer.sign("calendar", 3, 5)

    assert signer.verify(signature, "calendar", 3, 5)
    assert not signer.verify(signature, "calendar", 4, 5)
    assert not signer.verify(signature, "participants", 3, 5)
    assert not signer.verify(signature, "calendar", "3\x1f5")
    assert not LinkSigner(KEY + "x").verify(signature, "calendar", 3, 5)
    assert not signer.verify("é" * 43, "calendar", 3, 5)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        LinkSigner("short")


def test_production_needs_a_key_and_development_generates_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LINK_SIGNING_KEY"):
        signer_for("", production=True, key_file=tmp_path / "link.key")

    first = signer_for("", production=False, key_file=tmp_path / "link.key")
    again = signer_for("", production=False, key_file=tmp_path / "link.key")

    assert first.sign("calendar", 1) == again.sign("calendar", 1)
    assert (tmp_path / "link.key").stat().st_mode & 0o777 == 0o600


def test_a_generated_link_signing_key_is_not_called_an_encryption_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    signer_for("", production=False, key_file=tmp_path / "link.key")
    assert [record.getMessage() for record in caplog.records] == [
        f"generated a development link-signing key in {tmp_path / 'link.key'}"
        " (never use it in production)"
    ]
