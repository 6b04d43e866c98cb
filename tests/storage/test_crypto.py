"""Encryption at rest: Fernet tokens, key rotation, production needs a key, dev key generated."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from storage.crypto import EncryptionKeyError, TextCipher, cipher_for, generate_key


def test_text_comes_back_and_the_stored_token_does_not_contain_it() -> None:
    cipher = TextCipher([generate_key()])

    token = cipher.encrypt("Ik word gediscrimineerd door een collega")

    assert "gediscrimineerd" not in token
    assert cipher.decrypt(token) == "Ik word gediscrimineerd door een collega"


def test_after_rotation_old_tokens_still_decrypt_and_new_ones_use_the_new_key() -> None:
    old_key, new_key = generate_key(), generate_key()
    old_token = TextCipher([old_key]).encrypt("oud")

    rotated = TextCipher([new_key, old_key])
    new_token = rotated.encrypt("nieuw")

    assert rotated.decrypt(old_token) == "oud"
    assert TextCipher([new_key]).decrypt(new_token) == "nieuw"
    with pytest.raises(EncryptionKeyError):
        TextCipher([old_key]).decrypt(new_token)


def test_a_bad_key_is_refused_without_showing_it() -> None:
    secret = "not-a-fernet-key-but-secret"
    with pytest.raises(EncryptionKeyError) as refused:
        TextCipher([generate_key(), secret])
    assert "2 of 2" in str(refused.value)
    assert secret not in str(refused.value)


def test_production_without_keys_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(EncryptionKeyError, match="ENCRYPTION_KEYS"):
        cipher_for([], production=True, key_file=tmp_path / "key")
    assert not (tmp_path / "key").exists()


def test_development_generates_one_private_key_and_keeps_using_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "data" / "encryption.key"
    caplog.set_level(logging.DEBUG)

    token = cipher_for([], production=False, key_file=key_file).encrypt("tekst")

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert cipher_for([], production=False, key_file=key_file).decrypt(token) == "tekst"
    key = key_file.read_text().strip()
    assert key not in caplog.text


def test_configured_keys_win_over_the_development_file(tmp_path: Path) -> None:
    key = generate_key()
    token = cipher_for([key], production=False, key_file=tmp_path / "key").encrypt("x")
    assert TextCipher([key]).decrypt(token) == "x"
    assert not (tmp_path / "key").exists()
