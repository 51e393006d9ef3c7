from __future__ import annotations

import hashlib
import hmac

import pytest

from chatcart.kit.crypto import SecretBox, hmac_sha256_hex, random_token, same, sha256_hex


def test_secret_box_round_trips_unicode() -> None:
    box = SecretBox("key-one")
    plaintext = "Mật khẩu: Đặt hàng 🛒 — Niño"
    token = box.encrypt(plaintext)
    assert plaintext not in token
    assert box.decrypt(token) == plaintext


def test_secret_box_same_key_new_instance_decrypts() -> None:
    token = SecretBox("key-one").encrypt("page-access-token")
    assert SecretBox("key-one").decrypt(token) == "page-access-token"


def test_secret_box_other_key_cannot_decrypt() -> None:
    token = SecretBox("key-one").encrypt("page-access-token")
    with pytest.raises(ValueError, match="SECRET_KEY"):
        SecretBox("key-two").decrypt(token)


def test_secret_box_tampered_token_is_rejected() -> None:
    box = SecretBox("key-one")
    token = box.encrypt("hello")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        box.decrypt(tampered)


def test_secret_box_ciphertexts_differ_for_same_plaintext() -> None:
    box = SecretBox("key-one")
    first, second = box.encrypt("same"), box.encrypt("same")
    assert first != second
    assert box.decrypt(first) == box.decrypt(second) == "same"


def test_same() -> None:
    assert same("abc", "abc")
    assert same("đặt", "đặt")
    assert not same("abc", "abd")
    assert not same("abc", "abcd")
    assert not same("abc", "")


def test_hmac_sha256_hex_matches_stdlib() -> None:
    message = "tin nhắn".encode()
    expected = hmac.new(b"app-secret", message, hashlib.sha256).hexdigest()
    assert hmac_sha256_hex("app-secret", message) == expected
    assert hmac_sha256_hex(b"app-secret", message) == expected
    assert hmac_sha256_hex("other", message) != expected


def test_sha256_hex_and_random_token() -> None:
    assert sha256_hex("abc") == hashlib.sha256(b"abc").hexdigest()
    assert random_token() != random_token()
    assert len(random_token(32)) >= 43  # 32 bytes, urlsafe base64 without padding
