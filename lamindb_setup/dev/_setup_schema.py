"""Create and upgrade an instance's tables; register the user and storage rows."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ._files import copy_file_atomic, current_umask  # noqa: F401  (copy_file_atomic re-exported)

if TYPE_CHECKING:
    from ._settings_instance import InstanceSettings
    from ._settings_user import UserSettings


def apply_migrations(isettings: InstanceSettings) -> list[str]:
    """Apply all pending migrations of the instance's apps; returns their names."""
    from django.core.management import call_command

    from ._django import schema_apps

    if migrations_in_sync(isettings, schema_apps(isettings)):
        return []
    pending = pending_migrations()
    if pending:
        call_command("migrate", verbosity=0, interactive=False)
    return pending


def _executor():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    return MigrationExecutor(connection)


def pending_migrations() -> list[str]:
    """`app.migration` names defined by the installed apps but not applied."""
    executor = _executor()
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def unknown_applied_migrations() -> list[str]:
    """Migrations applied to the database that the installed apps do not define."""
    from django.apps import apps

    executor = _executor()
    labels = {config.label for config in apps.get_app_configs()}
    return sorted(
        f"{app}.{name}"
        for app, name in executor.loader.applied_migrations
        if app in labels and (app, name) not in executor.loader.disk_migrations
    )


# the distribution to upgrade for an app whose package name is not its own distribution
_DISTRIBUTIONS = {"lnschema_core": "lamindb_setup"}


def raise_if_database_newer(isettings: InstanceSettings) -> None:
    """Refuse an instance whose database applied migrations the installed modules lack."""
    import importlib

    from ._errors import SetupRuntimeError

    unknown = unknown_applied_migrations()
    if not unknown:
        return
    apps = sorted({name.split(".", 1)[0] for name in unknown})
    installed = ", ".join(
        f"{app} {getattr(importlib.import_module(app), '__version__', '(no version)')}"
        for app in apps
    )
    packages = " ".join(_DISTRIBUTIONS.get(app, app) for app in apps)
    raise SetupRuntimeError(
        f"The database of {isettings.identifier} is newer than the installed schema modules "
        f"({installed}): it has migrations {', '.join(unknown)}; upgrade with "
        f"`pip install -U {packages}`"
    )


def register_user_and_storage(
    isettings: InstanceSettings, user: UserSettings, *, dry_run: bool = False
) -> bool:
    """Insert or update the user row and the storage row; `True` if anything changes."""
    if dry_run:
        return _register(isettings, user, write=False)
    from django.db import IntegrityError, transaction

    from ._dbprobe import _user_conflict_error

    with _user_conflict_error(isettings, user, IntegrityError), transaction.atomic():
        return _register(isettings, user, write=True)


def _register(isettings: InstanceSettings, user: UserSettings, *, write: bool) -> bool:
    from lnschema_core.models import Storage, User

    changed = False
    row = User.objects.filter(id=user.id).first()
    wanted = {"email": user.email, "handle": user.handle, "name": user.name}
    if row is None or any(getattr(row, key) != value for key, value in wanted.items()):
        changed = True
        if write:
            User.objects.update_or_create(id=user.id, defaults=wanted)
    storage = isettings.storage
    if not Storage.objects.filter(root=storage.root_as_str).exists():
        changed = True
        if write:
            Storage.objects.create(
                root=storage.root_as_str,
                type=storage.type,
                region=storage.region,
                created_by_id=user.id,
            )
    return changed


def mark_instance_loaded() -> None:
    os.environ["LAMINDB_INSTANCE_LOADED"] = "1"


_MIGRATION_FILE = re.compile(r"^(\d{4}_\w+)\.py$")


def migration_files(app: str) -> list[Path]:
    """The migration files of an installed app, sorted by name (no import)."""
    try:
        spec = importlib.util.find_spec(f"{app}.migrations")
    except ModuleNotFoundError:  # the app itself is not installed
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    files: list[Path] = []
    for location in spec.submodule_search_locations:
        for entry in os.scandir(location):
            if entry.is_file() and _MIGRATION_FILE.match(entry.name):
                files.append(Path(entry.path))
    return sorted(files, key=lambda path: path.name)


def defined_migrations(apps: tuple[str, ...]) -> set[tuple[str, str]]:
    """`(app_label, migration)` pairs that the installed apps define on disk."""
    return {
        (app, _MIGRATION_FILE.match(path.name)[1]) for app in apps for path in migration_files(app)
    }


def applied_migrations_without_django(
    isettings: InstanceSettings, apps: tuple[str, ...]
) -> set[tuple[str, str]] | None:
    """Applied migrations of `apps` read straight from `django_migrations`; None if unknown."""
    from ._dbprobe import query

    try:
        rows = query(isettings, "SELECT app, name FROM django_migrations")
    except Exception:
        return None
    return {(app, name) for app, name in rows if app in apps}


def migrations_in_sync(isettings: InstanceSettings, apps: tuple[str, ...]) -> bool:
    """Cheap check: the database applied exactly the migrations found on disk."""
    applied = applied_migrations_without_django(isettings, apps)
    return applied is not None and applied == defined_migrations(apps)


def schema_fingerprint(apps: tuple[str, ...]) -> str:
    """A hash of the apps' migration files: the key of a pre-migrated template database."""
    digest = hashlib.sha256()
    for app in apps:
        digest.update(app.encode())
        for path in migration_files(app):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def sqlite_template(apps: tuple[str, ...]) -> Path:
    """Where the pre-migrated SQLite database of these apps is cached."""
    from ._storage import cache_root

    return cache_root() / "templates" / f"sqlite-{schema_fingerprint(apps)}.lndb"


# A dump of the migrated core schema ships with lnschema_core, so that even the first
# `init` on a machine creates its tables without running Django's migrations.
_FINGERPRINT_LINE = "-- schema fingerprint: "


def shipped_dump_path() -> Path:
    """`lnschema_core/_sqlite_schema.sql` of the installed core module."""
    spec = importlib.util.find_spec("lnschema_core")
    return Path(next(iter(spec.submodule_search_locations))) / "_sqlite_schema.sql"


def write_shipped_dump() -> Path:
    """Regenerate the shipped dump with Django's migrations (after changing core migrations)."""
    from django.db import connections

    from .._settings import settings
    from ._django import setup_django
    from ._settings_instance import InstanceSettings
    from ._settings_user import UserSettings

    # migrations evaluate the `created_by` default (the current user) on empty tables
    previous_user = settings._user
    settings._set_user(UserSettings(email="dump@localhost", id="00000000", handle="dump"))
    try:
        with tempfile.TemporaryDirectory() as folder:
            isettings = InstanceSettings(owner="dump", name="dump", storage_root=folder)
            setup_django(isettings)
            apply_migrations(isettings)
            connections.close_all()
            text = dump_sqlite_schema(isettings._sqlite_file_local, ("lnschema_core",))
    finally:
        settings._set_user(previous_user)
    path = shipped_dump_path()
    path.write_text(text, encoding="utf-8")
    return path


def dump_sqlite_schema(database: Path, apps: tuple[str, ...]) -> str:
    """SQL text that recreates a freshly migrated database, keyed by the apps' fingerprint."""
    conn = sqlite3.connect(database)
    try:
        body = "\n".join(conn.iterdump())
    finally:
        conn.close()
    return f"{_FINGERPRINT_LINE}{schema_fingerprint(apps)}\n{body}\n"


def shipped_sqlite_dump(apps: tuple[str, ...]) -> str | None:
    """The shipped dump if it matches these apps' migrations exactly, else None."""
    path = shipped_dump_path()
    if apps != ("lnschema_core",) or not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    first_line = text.split("\n", 1)[0]
    if first_line != f"{_FINGERPRINT_LINE}{schema_fingerprint(apps)}":
        return None  # migrations changed since the dump was written: migrate instead
    return text


def create_sqlite_from_dump(dump: str, target: Path) -> None:
    """Create a SQLite file from a dump, atomically (temp file, then rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.executescript(dump)
        finally:
            conn.close()
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


if __name__ == "__main__":
    print(f"wrote {write_shipped_dump()}")
