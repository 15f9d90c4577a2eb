"""Random identifiers of the core schema: base26, base62 and base64 strings."""

from __future__ import annotations

import secrets
import string

_BASE26 = string.ascii_lowercase
_BASE62 = string.digits + string.ascii_letters
_BASE64 = _BASE62 + "-_"


def _random(alphabet: str, n_char: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n_char))


def base26(n_char: int) -> str:
    """A random string of `n_char` lower-case letters."""
    return _random(_BASE26, n_char)


def base62(n_char: int) -> str:
    """A random string of `n_char` digits and ASCII letters."""
    return _random(_BASE62, n_char)


def base64(n_char: int) -> str:
    """A random string of `n_char` URL-safe base64 characters."""
    return _random(_BASE64, n_char)


def schema() -> str:
    """Schema module id: 4 base26 characters."""
    return base26(4)


def user() -> str:
    """User id: 8 base62 characters."""
    return base62(8)


def storage() -> str:
    """Storage id: 8 base62 characters."""
    return base62(8)


def project() -> str:
    """Project id: 8 base62 characters."""
    return base62(8)


def instance() -> str:
    """Instance id: 12 base62 characters."""
    return base62(12)


def transform() -> str:
    """Transform id: 12 base62 characters."""
    return base62(12)


def file() -> str:
    """File id: 20 base62 characters."""
    return base62(20)


def folder() -> str:
    """Folder id: 20 base62 characters."""
    return base62(20)


def run() -> str:
    """Run id: 20 base62 characters."""
    return base62(20)


def usage() -> str:
    """Usage id: 24 base62 characters."""
    return base62(24)


def secret() -> str:
    """A secret (e.g. a generated password): 40 base62 characters."""
    return base62(40)
