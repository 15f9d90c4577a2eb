"""The embedded hub: a SQLite registry in one directory (by default `~/.lamin`).

Several processes (or several HOMEs pointing `LAMIN_HUB_DIR` at one directory)
may use the registry at once: every write runs in an immediate transaction, so
checks and inserts cannot interleave, and the unique constraints back that up.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from lnschema_core import ids

from ..dev._errors import SetupRuntimeError, SetupValueError
from . import _jwt
from ._base import Hub, InstanceRecord, StorageRecord, normalize_root, storage_type

DB_FILE = "hub.sqlite3"
SECRET_FILE = "hub-secret"
TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600
_BUSY_TIMEOUT_SECONDS = 30.0
_KEY_BYTES = 32
# scrypt cost: ~16 MiB and a few tens of milliseconds per hash
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS account (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        handle TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS storage (
        id TEXT PRIMARY KEY,
        root TEXT NOT NULL UNIQUE,
        region TEXT,
        type TEXT NOT NULL,
        created_by TEXT REFERENCES account (id),
        created_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS instance (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL REFERENCES account (id),
        name TEXT NOT NULL,
        storage_id TEXT NOT NULL REFERENCES storage (id),
        db TEXT,
        schema_str TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (owner_id, name)
    )
    """,
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` for `password`, with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash made by `hash_password`."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _check_email(email: str) -> str:
    if not isinstance(email, str):
        raise SetupValueError("The email must be a string")
    email = email.strip()
    local, at, domain = email.partition("@")
    if not at or not local or not domain or any(c.isspace() for c in email):
        raise SetupValueError(f"Invalid email {email!r}: expected an address like name@example.org")
    return email


class EmbeddedHub(Hub):
    """A hub kept in `directory/hub.sqlite3`; its token key in `directory/hub-secret`."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._schema_ready = False
        self._key: bytes | None = None

    def __repr__(self) -> str:
        return f"EmbeddedHub({str(self.directory)!r})"

    @property
    def db_path(self) -> Path:
        return self.directory / DB_FILE

    @property
    def secret_path(self) -> Path:
        return self.directory / SECRET_FILE

    # --- storage of the registry ------------------------------------------------------

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise SetupRuntimeError(
                f"Cannot create the hub directory {self.directory}: {exc.strerror}"
            ) from None

    def _ensure_db_file(self) -> None:
        if self.db_path.exists():
            return
        self._ensure_directory()
        # create it ourselves so that sqlite never makes it with a looser mode
        try:
            fd = os.open(self.db_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return
        os.close(fd)
        os.chmod(self.db_path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        self._ensure_db_file()
        # autocommit mode: transactions are opened explicitly by `_transaction`
        conn = sqlite3.connect(self.db_path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            if not self._schema_ready:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("COMMIT")
                self._schema_ready = True
        except BaseException:
            conn.close()
            raise
        return conn

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connect()
            # IMMEDIATE takes the write lock up front: a check and the insert it
            # guards cannot interleave with another process doing the same
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn is not None and conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.IntegrityError
            ):
                raise SetupRuntimeError(
                    f"Cannot use the hub registry {self.db_path}: {exc}"
                ) from exc
            raise
        finally:
            if conn is not None:
                conn.close()

    # --- the key that signs access tokens ----------------------------------------------

    def _signing_key(self) -> bytes:
        if self._key is None:
            self._key = self._read_or_create_key()
        return self._key

    def _read_key(self) -> bytes | None:
        """The key in the secret file; `None` if there is none yet; waits for a writer."""
        deadline = time.monotonic() + 2.0
        while True:
            try:
                text = self.secret_path.read_text(encoding="ascii").strip()
            except FileNotFoundError:
                return None
            try:
                key = bytes.fromhex(text)
            except ValueError:
                key = b""
            if len(key) == _KEY_BYTES:
                return key
            if time.monotonic() > deadline:
                raise SetupRuntimeError(
                    f"The hub key {self.secret_path} is damaged; delete it"
                    " (access tokens issued so far stop working)"
                )
            time.sleep(0.02)  # another process may be writing it right now

    def _read_or_create_key(self) -> bytes:
        while True:
            key = self._read_key()
            if key is not None:
                return key
            self._ensure_directory()
            candidate = secrets.token_bytes(_KEY_BYTES)
            if self._publish_key(candidate):
                return candidate
            # another process published its key first: read and use that one

    def _publish_key(self, key: bytes) -> bool:
        """Write `key` to the secret file unless it exists; whether ours was written."""
        fd, tmp_name = tempfile.mkstemp(prefix=f".{SECRET_FILE}.", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(key.hex() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o600)
            # a hard link publishes the complete file and, unlike os.replace, fails
            # when a racing process got there first, so everybody keeps one key
            try:
                os.link(tmp_name, self.secret_path)
                return True
            except FileExistsError:
                return False
            except OSError:
                pass  # no hard links on this file system
            return self._publish_key_exclusive(key)
        finally:
            Path(tmp_name).unlink(missing_ok=True)

    def _publish_key_exclusive(self, key: bytes) -> bool:
        try:
            fd = os.open(self.secret_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return True

    def issue_access_token(self, account_id: str, email: str, handle: str) -> str:
        """A signed JWT for the account, valid for 7 days."""
        now = int(time.time())
        payload = {
            "sub": account_id,
            "email": email,
            "handle": handle,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_SECONDS,
        }
        return _jwt.encode(payload, self._signing_key())

    def verify_access_token(self, token: str) -> dict:
        """The payload of a token this hub issued and that has not expired; else `ValueError`."""
        payload = _jwt.decode(token, self._signing_key())
        for claim in ("sub", "handle", "email"):
            if not isinstance(payload.get(claim), str):
                raise ValueError(f"Token lacks the {claim} claim")
        return payload

    # --- accounts ---------------------------------------------------------------------

    def sign_up(self, email: str) -> str:
        email = _check_email(email)
        handle = email.split("@")[0]
        password = ids.secret()
        password_hash = hash_password(password)  # slow: do it before taking the lock
        with self._transaction(write=True) as conn:
            if conn.execute("SELECT 1 FROM account WHERE email = ?", (email,)).fetchone():
                return "user-exists"
            if conn.execute("SELECT 1 FROM account WHERE handle = ?", (handle,)).fetchone():
                return "handle-exists"
            conn.execute(
                "INSERT INTO account (id, email, handle, name, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (ids.user(), email, handle, None, password_hash, _now()),
            )
        return password

    def sign_in(
        self, email: str, password: str, handle: str | None = None
    ) -> tuple[str, str, str | None, str] | str:
        # `handle` is part of the interface (the hosted hub used it to finish a
        # signup); accounts here are complete from the start, so it is not needed
        if not isinstance(email, str) or not isinstance(password, str):
            return "could-not-login"
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT id, email, handle, name, password_hash FROM account WHERE email = ?",
                (email.strip(),),
            ).fetchone()
        if row is None:
            hash_password(password)  # same work as a known email: timing tells nothing
            return "could-not-login"
        if not verify_password(password, row["password_hash"]):
            return "could-not-login"
        token = self.issue_access_token(row["id"], row["email"], row["handle"])
        return row["id"], row["handle"], row["name"], token

    # --- instances and storages -------------------------------------------------------

    def init_instance(
        self,
        *,
        owner: str,
        name: str,
        storage: str,
        db: str | None = None,
        schema: str | None = None,
        storage_region: str | None = None,
    ) -> str | None:
        with self._transaction(write=True) as conn:
            account = conn.execute("SELECT id FROM account WHERE handle = ?", (owner,)).fetchone()
            if account is None:
                return "account-not-exists"
            existing = conn.execute(
                "SELECT 1 FROM instance WHERE owner_id = ? AND name = ?", (account["id"], name)
            ).fetchone()
            if existing is not None:
                return "instance-exists-already"
            record = self._add_storage(conn, storage, account["id"], storage_region)
            conn.execute(
                "INSERT INTO instance (id, owner_id, name, storage_id, db, schema_str, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ids.instance(), account["id"], name, record.id, db, schema, _now()),
            )
        return None

    def load_instance(
        self, *, owner: str, name: str, access_token: str | None = None
    ) -> tuple[InstanceRecord, StorageRecord] | str:
        # reads need no token here: whoever can read the registry file sees it all
        with self._transaction(write=False) as conn:
            account = conn.execute(
                "SELECT id, handle FROM account WHERE handle = ?", (owner,)
            ).fetchone()
            if account is None:
                return "account-not-exists"
            row = conn.execute(
                "SELECT i.id, i.name, i.db, i.schema_str, s.id AS storage_id, s.root,"
                " s.region, s.type, s.created_by"
                " FROM instance AS i JOIN storage AS s ON s.id = i.storage_id"
                " WHERE i.owner_id = ? AND i.name = ?",
                (account["id"], name),
            ).fetchone()
        if row is None:
            return "instance-not-reachable"
        instance = InstanceRecord(
            id=row["id"],
            owner=account["handle"],
            name=row["name"],
            storage_root=row["root"],
            storage_region=row["region"],
            db=row["db"],
            schema_str=row["schema_str"],
        )
        storage = StorageRecord(
            id=row["storage_id"],
            root=row["root"],
            region=row["region"],
            type=row["type"],
            created_by=row["created_by"],
        )
        return instance, storage

    def add_storage(
        self, root: str, account_handle: str, region: str | None = None
    ) -> StorageRecord:
        with self._transaction(write=True) as conn:
            account = conn.execute(
                "SELECT id FROM account WHERE handle = ?", (account_handle,)
            ).fetchone()
            created_by = None if account is None else account["id"]
            return self._add_storage(conn, root, created_by, region)

    def _add_storage(
        self, conn: sqlite3.Connection, root: str, created_by: str | None, region: str | None
    ) -> StorageRecord:
        root = normalize_root(root)
        row = conn.execute(
            "SELECT id, root, region, type, created_by FROM storage WHERE root = ?", (root,)
        ).fetchone()
        if row is not None:
            if row["region"] is None and region is not None:
                conn.execute("UPDATE storage SET region = ? WHERE id = ?", (region, row["id"]))
            return StorageRecord(
                id=row["id"],
                root=row["root"],
                region=row["region"] if row["region"] is not None else region,
                type=row["type"],
                created_by=row["created_by"],
            )
        record = StorageRecord(
            id=ids.storage(),
            root=root,
            region=region,
            type=storage_type(root),
            created_by=created_by,
        )
        conn.execute(
            "INSERT INTO storage (id, root, region, type, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (record.id, record.root, record.region, record.type, record.created_by, _now()),
        )
        return record

    def delete_instance(self, owner: str, name: str) -> None:
        # the storage stays: other instances may use it, and it only describes data
        with self._transaction(write=True) as conn:
            conn.execute(
                "DELETE FROM instance WHERE name = ?"
                " AND owner_id IN (SELECT id FROM account WHERE handle = ?)",
                (name, owner),
            )
