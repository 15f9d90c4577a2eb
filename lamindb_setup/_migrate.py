"""`migrate`: create and deploy migrations of the loaded instance's schema modules."""

from __future__ import annotations

from .dev import _logger as logger


def _setup():
    from ._settings import settings
    from .dev._django import setup_django

    isettings = settings.instance
    setup_django(isettings)
    return isettings


class migrate:
    """Manage migrations of the loaded instance."""

    @staticmethod
    def create() -> None:
        """Write new migrations for model changes of the configured schema modules."""
        from django.core.management import call_command

        from .dev._django import schema_apps

        isettings = _setup()
        call_command("makemigrations", *schema_apps(isettings), verbosity=1, interactive=False)

    @staticmethod
    def deploy() -> str:
        """Apply pending migrations; `"migrate-success"` or `"migrate-unnecessary"`."""
        from .dev._setup_schema import apply_migrations, pending_migrations

        isettings = _setup()
        if not pending_migrations():
            logger.info(f"Database of {isettings.identifier} is up to date")
            return "migrate-unnecessary"
        with isettings._cloud_sqlite_locker:
            if isettings.is_cloud_sqlite:
                isettings._update_local_sqlite_file()
            applied = apply_migrations(isettings)
            if isettings.is_cloud_sqlite:
                from django.db import connections

                connections.close_all()
                isettings._update_cloud_sqlite_file()
        logger.success(f"Applied migrations: {', '.join(applied)}")
        return "migrate-success"

    @staticmethod
    def show() -> list[tuple[str, bool]]:
        """Each migration of the configured modules as `(app.name, applied)`; also printed."""
        from django.db import connection
        from django.db.migrations.loader import MigrationLoader

        from .dev._django import schema_apps

        isettings = _setup()
        loader = MigrationLoader(connection)
        rows = []
        for app in schema_apps(isettings):
            for key in loader.graph.forwards_plan((app, loader.graph.leaf_nodes(app)[0][1])):
                if key[0] == app:
                    rows.append((f"{key[0]}.{key[1]}", key in loader.applied_migrations))
        for name, applied in rows:
            print(f"[{'X' if applied else ' '}] {name}")
        return rows

    @staticmethod
    def check() -> bool:
        """Whether the models and migrations of the configured modules agree."""
        from django.core.management import call_command

        from .dev._django import schema_apps

        isettings = _setup()
        try:
            call_command(
                "makemigrations", *schema_apps(isettings), check=True, dry_run=True, verbosity=0
            )
        except SystemExit:
            return False
        return True
