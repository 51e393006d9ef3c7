from __future__ import annotations

import hashlib
import hmac

import pytest

from chatcart.channels.meta.signature import sign, verify_signature

SECRET = "3f1c0a9b7e5d4c2b1a0f9e8d7c6b5a49"
# As Meta sends it: unicode escaped, slashes escaped (platforms.md §1.4).
RAW = (
    b'{"object":"page","entry":[{"id":"104857392011234","time":1767236400456,"messaging":'
    b'[{"sender":{"id":"6873412290051234"},"recipient":{"id":"104857392011234"},'
    b'"timestamp":1767236400123,"message":{"mid":"m_1","text":"\\u00c1o thun c\\u00f2n '
    b'size M kh\\u00f4ng \\u1ea1?","attachments":[{"type":"image","payload":{"url":'
    b'"https:\\/\\/scontent.xx.fbcdn.net\\/v\\/a.jpg"}}]}}]}]}'
)


def header_for(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_valid_signature_over_the_raw_escaped_bytes() -> None:
    assert verify_signature(SECRET, RAW, header_for(RAW))
    assert sign(SECRET, RAW) == header_for(RAW)


def test_uppercase_hex_is_accepted() -> None:
    header = header_for(RAW)
    assert verify_signature(SECRET, RAW, "sha256=" + header[7:].upper())


def test_re_encoded_body_does_not_verify() -> None:
    import json

    reencoded = json.dumps(json.loads(RAW), ensure_ascii=False, separators=(",", ":")).encode()
    assert reencoded != RAW
    assert not verify_signature(SECRET, reencoded, header_for(RAW))


def test_tampered_byte_fails() -> None:
    tampered = bytearray(RAW)
    tampered[RAW.index(b"6873412290051234")] ^= 0x01
    assert not verify_signature(SECRET, bytes(tampered), header_for(RAW))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + hashlib.sha1(RAW).hexdigest(),  # noqa: S324 - legacy header shape
        "SHA256=" + "0" * 64,
        "sha256=" + "z" * 64,
        "sha256=" + "0" * 63,
        "sha256:" + "0" * 64,
    ],
)
def test_absent_or_malformed_header_fails(header: str | None) -> None:
    assert not verify_signature(SECRET, RAW, header)


def test_wrong_secret_fails() -> None:
    assert not verify_signature("another-secret", RAW, header_for(RAW))
    assert not verify_signature("", RAW, header_for(RAW))
