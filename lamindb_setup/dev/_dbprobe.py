"""Look into an instance's database without Django: reachability and the user table."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from ._errors import DatabaseConnectionError, SetupRuntimeError

if TYPE_CHECKING:
    from ._settings_instance import InstanceSettings

USER_TABLE = "lnschema_core_user"


class UserConflictError(SetupRuntimeError):
    """The instance's user table has the handle or email under another id."""


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


def query(isettings: InstanceSettings, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a read-only query (`?` placeholders) on the instance's database, no Django.

    Raises `DatabaseConnectionError` when the database cannot be reached, and the
    driver's error when the query fails (e.g. a missing table).
    """
    if isettings.dialect == "postgresql":
        with connect_postgres(isettings.db) as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()
    path = isettings._sqlite_file_local  # callers sync cloud SQLite once, beforehand
    if not path.exists():
        raise DatabaseConnectionError(f"SQLite file {path} does not exist")
    conn = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _has_table(isettings: InstanceSettings, table: str) -> bool:
    if isettings.dialect == "postgresql":
        sql = "SELECT to_regclass(?) IS NOT NULL"
        return bool(query(isettings, sql, (f"public.{table}",))[0][0])
    sql = "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?"
    return bool(query(isettings, sql, (table,))[0][0])


def count_core_users(isettings: InstanceSettings) -> tuple[int | None, str]:
    """Rows in the core user table, or `(None, reason)` if unreachable / no table."""
    where = (
        f"Postgres database {postgres_location(isettings.db)}"
        if isettings.dialect == "postgresql"
        else f"SQLite file {isettings._sqlite_file_local}"
    )
    try:
        if not _has_table(isettings, USER_TABLE):
            return None, f"{where} has no core tables"
        return query(isettings, f"SELECT count(*) FROM {USER_TABLE}")[0][0], ""
    except DatabaseConnectionError as exc:
        return None, str(exc)
    except Exception as exc:  # a corrupt file or a failing query: report, don't crash
        return None, f"{where} cannot be read: {exc}"


def is_registered(isettings: InstanceSettings, user) -> bool:
    """Whether the user row (same email, handle, name) and the storage row exist already."""
    try:
        users = query(
            isettings, f"SELECT email, handle, name FROM {USER_TABLE} WHERE id = ?", (user.id,)
        )
        roots = query(
            isettings,
            "SELECT 1 FROM lnschema_core_storage WHERE root = ?",
            (isettings.storage.root_as_str,),
        )
    except Exception:
        return False
    return users == [(user.email, user.handle, user.name)] and bool(roots)


@contextlib.contextmanager
def _user_conflict_error(isettings: InstanceSettings, user, error_class: type):
    """Turn a unique-constraint failure on the user row into a clear error."""
    try:
        yield
    except error_class:
        raise UserConflictError(
            f"The database of {isettings.identifier} has another user with handle "
            f"{user.handle!r} or email {user.email!r}: log in with the account that created "
            "the instance (share one hub via LAMIN_HUB_DIR or LAMIN_HUB_URL)"
        ) from None


def _sqlite_now() -> str:
    """A timestamp as Django stores it in SQLite with USE_TZ (naive UTC)."""
    from datetime import datetime, timezone

    return (
        datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    )


def register_in_sqlite(isettings: InstanceSettings, user) -> None:
    """Upsert the user row and add the storage row in a SQLite file, without Django.

    The fast path of `init` on a freshly copied template database; the columns are
    those of `lnschema_core.User` and `lnschema_core.Storage`.
    """
    from lnschema_core import ids

    now = _sqlite_now()
    storage = isettings.storage
    conn = sqlite3.connect(isettings._sqlite_file_local, timeout=30)
    try:
        with conn, _user_conflict_error(isettings, user, sqlite3.IntegrityError):
            conn.execute(
                f"INSERT INTO {USER_TABLE} (id, email, handle, name, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET email = excluded.email, "
                "handle = excluded.handle, name = excluded.name, updated_at = excluded.updated_at",
                (user.id, user.email, user.handle, user.name, now, now),
            )
            conn.execute(
                "INSERT INTO lnschema_core_storage "
                "(id, root, type, region, created_at, updated_at, created_by_id) "
                "SELECT ?, ?, ?, ?, ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM lnschema_core_storage WHERE root = ?)",
                (
                    ids.storage(),
                    storage.root_as_str,
                    storage.type,
                    storage.region,
                    now,
                    now,
                    user.id,
                    storage.root_as_str,
                ),
            )
    finally:
        conn.close()
