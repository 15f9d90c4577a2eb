"""HS256 JSON Web Tokens with the standard library only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _json_segment(data: dict) -> str:
    return _b64url_encode(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())


def _signature(signing_input: str, secret: bytes) -> bytes:
    return hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()


def encode(payload: dict, secret: bytes) -> str:
    """A compact HS256 token `header.payload.signature` carrying `payload`."""
    signing_input = f"{_json_segment(_HEADER)}.{_json_segment(payload)}"
    return f"{signing_input}.{_b64url_encode(_signature(signing_input, secret))}"


def decode(token: str, secret: bytes, verify: bool = True) -> dict:
    """The payload of `token`; with `verify`, checks signature and `exp` (else `ValueError`)."""
    if not isinstance(token, str):
        raise ValueError("Token is not a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("Token is not a compact JWT")
    header_part, payload_part, signature_part = parts
    try:
        header = json.loads(_b64url_decode(header_part))
        payload = json.loads(_b64url_decode(payload_part))
        signature = _b64url_decode(signature_part)
    except (ValueError, UnicodeError) as exc:
        raise ValueError(f"Token cannot be parsed ({type(exc).__name__})") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("Token header or payload is not a JSON object")
    if not verify:
        return payload
    # fixed algorithm: a token that names another one (e.g. "none") is refused
    if header.get("alg") != "HS256":
        raise ValueError("Token is not signed with HS256")
    expected = _signature(f"{header_part}.{payload_part}", secret)
    if not hmac.compare_digest(signature, expected):
        raise ValueError("Token signature is invalid")
    exp = payload.get("exp")
    if exp is not None:
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise ValueError("Token expiry is not a number")
        if time.time() >= exp:
            raise ValueError("Token has expired")
    return payload
