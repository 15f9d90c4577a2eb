"""Look into an instance's database without Django: reachability and the user table."""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ._errors import DatabaseConnectionError

if TYPE_CHECKING:
    from ._settings_instance import InstanceSettings

USER_TABLE = "lnschema_core_user"
CONNECT_TIMEOUT = 5


def postgres_location(db: str) -> str:
    """`host:port/dbname` of a Postgres URL (never the password)."""
    parts = urlsplit(db)
    return f"{parts.hostname}:{parts.port or 5432}/{parts.path.lstrip('/')}"


def connect_postgres(db: str):
    """A psycopg connection with a short connect timeout; one-line error on failure."""
    import psycopg

    parts = urlsplit(db)
    try:
        return psycopg.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            dbname=unquote(parts.path.lstrip("/")),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            connect_timeout=CONNECT_TIMEOUT,
        )
    except psycopg.OperationalError as exc:
        reason = _short_reason(str(exc)) or type(exc).__name__
        if parts.password:
            reason = reason.replace(unquote(parts.password), "***")
        raise DatabaseConnectionError(
            f"Cannot connect to Postgres at {postgres_location(db)}: {reason}. "
            "Check that the server runs and the URL, user and password are right."
        ) from None


_NOISE = re.compile(r'(connection failed: )?(connection to server at "[^"]*", port \d+ failed: )?')


def _short_reason(message: str) -> str:
    """The gist of a libpq error in one line, e.g. 'database "x" does not exist'."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    reason = _NOISE.sub("", lines[0], count=1).replace("FATAL:", "").strip()
    return " ".join(reason.split())


def count_core_users(isettings: InstanceSettings) -> tuple[int | None, str]:
    """Rows in the core user table, or `(None, reason)` if unreachable / no table."""
    if isettings.dialect == "postgresql":
        try:
            conn = connect_postgres(isettings.db)
        except DatabaseConnectionError as exc:
            return None, str(exc)
        try:
            with conn:
                row = conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL", (f"public.{USER_TABLE}",)
                ).fetchone()
                if not row[0]:
                    return (
                        None,
                        f"Postgres database {postgres_location(isettings.db)} has no core tables",
                    )
                return conn.execute(f"SELECT count(*) FROM {USER_TABLE}").fetchone()[0], ""
        finally:
            conn.close()
    isettings.db  # noqa: B018  (syncs the cache copy of cloud SQLite)
    path = isettings._sqlite_file_local
    if not path.exists():
        return None, f"SQLite file {path} does not exist"
    try:
        conn = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", (USER_TABLE,)
            ).fetchone()
            if not row[0]:
                return None, f"SQLite file {path} has no core tables"
            return conn.execute(f"SELECT count(*) FROM {USER_TABLE}").fetchone()[0], ""
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return None, f"SQLite file {path} cannot be read: {exc}"
