"""Create and upgrade an instance's tables; register the user and storage rows."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._settings_instance import InstanceSettings
    from ._settings_user import UserSettings


def apply_migrations() -> list[str]:
    """Apply all pending migrations of the configured apps; returns their names."""
    from django.core.management import call_command

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


def register_user_and_storage(
    isettings: InstanceSettings, user: UserSettings, *, dry_run: bool = False
) -> bool:
    """Insert or update the user row and the storage row; `True` if anything changes."""
    from lnschema_core.models import Storage, User

    changed = False
    row = User.objects.filter(id=user.id).first()
    wanted = {"email": user.email, "handle": user.handle, "name": user.name}
    if row is None or any(getattr(row, key) != value for key, value in wanted.items()):
        changed = True
        if not dry_run:
            User.objects.update_or_create(id=user.id, defaults=wanted)
    storage = isettings.storage
    if not Storage.objects.filter(root=storage.root_as_str).exists():
        changed = True
        if not dry_run:
            Storage.objects.create(
                root=storage.root_as_str,
                type=storage.type,
                region=storage.region,
                created_by_id=user.id,
            )
    return changed


def mark_instance_loaded() -> None:
    os.environ["LAMINDB_INSTANCE_LOADED"] = "1"
