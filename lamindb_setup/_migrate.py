"""`migrate`: create, deploy and inspect migrations of the loaded instance's schema modules."""

from __future__ import annotations

from pathlib import Path

from .dev import _logger as logger
from .dev._errors import SetupRuntimeError


def _loaded_instance():
    from ._settings import settings
    from .dev._django import setup_django

    isettings = settings.instance
    setup_django(isettings)
    return isettings


class migrate:
    """Manage migrations of the loaded instance."""

    @staticmethod
    def create() -> list[Path]:
        """Write migrations for model changes of the configured schema modules.

        Runs Django's `makemigrations` for `lnschema_core` and the instance's modules;
        the files go into each module's `migrations` package. Returns the new files.
        """
        return _create(_loaded_instance())

    @staticmethod
    def deploy() -> str:
        """Apply pending migrations: `"migrate-success"`, `"migrate-unnecessary"` or
        `"migrate-failed"`. Cloud SQLite: under the bucket lock, uploaded afterwards."""
        return deploy_pending(_loaded_instance())

    @staticmethod
    def show() -> list[tuple[str, bool]]:
        """Each migration of the configured modules as `("app.migration", applied)`; printed."""
        return _show(_loaded_instance())

    @staticmethod
    def check() -> bool:
        """Whether the models of the configured modules match their migrations (for CI)."""
        return _check(_loaded_instance())


def _captured_makemigrations(apps: tuple[str, ...], **options) -> tuple[int, str]:
    """Run `makemigrations` for `apps`; its exit code (0 if it returned) and its output."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    try:
        call_command("makemigrations", *apps, interactive=False, stdout=out, stderr=out, **options)
    except SystemExit as exc:  # `--check` and the non-interactive questioner exit
        return int(exc.code or 0), out.getvalue()
    except CommandError as exc:  # e.g. conflicting migrations (two leaves)
        return 1, f"{out.getvalue()}{exc}\n"
    return 0, out.getvalue()


def _create(isettings) -> list[Path]:
    from .dev._django import schema_apps
    from .dev._setup_schema import migration_files

    apps = schema_apps(isettings)
    before = {path for app in apps for path in migration_files(app)}
    code, output = _captured_makemigrations(apps, verbosity=1)
    written = sorted({path for app in apps for path in migration_files(app)} - before)
    if code != 0:
        raise SetupRuntimeError(
            f"makemigrations could not write the migrations: {' '.join(output.split())}"
        )
    if not written:
        logger.info(f"No changes in the models of {', '.join(apps)}: no migration written")
        return []
    for path in written:
        logger.success(f"Wrote migration {path}")
    logger.hint("Review it, commit it with the models, then run `lamin migrate deploy`")
    return written


def deploy_pending(isettings) -> str:
    """Apply the pending migrations of `isettings` (Django already points at it)."""
    from django.db import DatabaseError, connections

    from .dev._setup_schema import apply_migrations, pending_migrations, raise_if_database_newer

    raise_if_database_newer(isettings)
    if not pending_migrations():
        logger.info(f"The database of {isettings.identifier} is up to date: nothing to migrate")
        return "migrate-unnecessary"
    applied: list[str] = []
    failure = None
    with isettings._cloud_sqlite_locker:
        if isettings.is_cloud_sqlite:
            # another writer may have migrated meanwhile: plan against the newest copy
            connections.close_all()
            isettings._update_local_sqlite_file()
            raise_if_database_newer(isettings)
        try:
            applied = apply_migrations(isettings)
        except DatabaseError as exc:
            failure = exc
        finally:
            if isettings.is_cloud_sqlite:
                # each migration is atomic, so even after a failure the file is consistent
                connections.close_all()
                isettings._update_cloud_sqlite_file()
    if failure is not None:
        still = pending_migrations()
        logger.error(
            f"Migrating {isettings.identifier} failed: {failure}; "
            f"still pending: {', '.join(still) or 'none'}"
        )
        return "migrate-failed"
    if not applied:
        logger.info(f"The database of {isettings.identifier} is up to date: nothing to migrate")
        return "migrate-unnecessary"
    logger.success(f"Applied migrations to {isettings.identifier}: {', '.join(applied)}")
    return "migrate-success"


def _show(isettings) -> list[tuple[str, bool]]:
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from .dev._django import schema_apps

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(loader.applied_migrations)
    rows: list[tuple[str, bool]] = []
    lines: list[str] = []
    for app in schema_apps(isettings):
        on_disk = {name for label, name in loader.disk_migrations if label == app}
        in_db = {name for label, name in applied if label == app}
        lines.append(app)
        if not on_disk | in_db:
            lines.append("  (no migrations)")
        for name in sorted(on_disk | in_db):
            is_applied = (app, name) in applied
            rows.append((f"{app}.{name}", is_applied))
            note = "" if name in on_disk else "  <- not in the installed module: upgrade it"
            lines.append(f"  [{'X' if is_applied else ' '}] {name}{note}")
    print("\n".join(lines))
    return rows


def _check(isettings) -> bool:
    from .dev._django import schema_apps

    apps = schema_apps(isettings)
    code, output = _captured_makemigrations(apps, check=True, dry_run=True, verbosity=1)
    if code == 0:
        logger.success(f"The models of {', '.join(apps)} match their migrations")
        return True
    logger.warning(
        "The models have changes without a migration; write it with `lamin migrate create`:\n"
        + output.rstrip()
    )
    return False
