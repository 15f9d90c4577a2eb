"""A small logger for users: info/success/hint to stdout, warnings/errors to stderr.

Every message passes through `mask_secrets`, so a Postgres password in a URL never
reaches the terminal or a log file.
"""

from __future__ import annotations

import re
import sys

_URL_PASSWORD = re.compile(
    r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)"
)


def mask_secrets(text: str) -> str:
    """Replace the password part of every `scheme://user:password@host` URL with `***`."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***{m['tail']}", str(text))


def _emit(stream, symbol: str, message: object) -> None:
    print(f"{symbol} {mask_secrets(str(message))}", file=stream, flush=True)


def info(message: object) -> None:
    _emit(sys.stdout, "💬", message)


def success(message: object) -> None:
    _emit(sys.stdout, "✅", message)


def hint(message: object) -> None:
    _emit(sys.stdout, "💡", message)


def warning(message: object) -> None:
    _emit(sys.stderr, "🔶", message)


def error(message: object) -> None:
    _emit(sys.stderr, "❌", message)
