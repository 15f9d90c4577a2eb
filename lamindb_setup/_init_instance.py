"""`init`: create an instance (database + default storage) and load it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from ._docstrings import instance_description
from .dev import _logger as logger
from .dev._docs import doc_args
from .dev._errors import SetupRuntimeError


@doc_args(instance_description)
def init(
    *,
    storage: Union[str, Path],
    name: Optional[str] = None,
    db: Optional[str] = None,
    schema: Optional[str] = None,
    _test: bool = False,
) -> Optional[str]:
    """Create an instance with a default storage root, a database and schema modules.

    {}

    Args:
        storage: A local folder, `s3://bucket` or `gs://bucket`.
        name: Instance name; defaults to the db name, the bucket or the folder name.
        db: A Postgres URL; `None` means a SQLite file `{{name}}.lndb` in the storage root.
        schema: Comma-separated schema modules besides `core`, e.g. `"bionty,lamin1"`.
    """
    from ._hub import get_hub, validate_db_arg, validate_schema_arg, validate_storage_root_arg
    from ._silence_loggers import silence_loggers
    from .dev._instance import find_instance, infer_instance_name, require_user
    from .dev._settings_instance import InstanceSettings

    silence_loggers()
    user = require_user()
    schema_str = validate_schema_arg(schema)
    validate_storage_root_arg(str(storage))
    validate_db_arg(db)
    name = infer_instance_name(storage, name, db)
    owner = user.handle

    existing = find_instance(owner, name, user.access_token)
    if existing is not None and (_test or existing._is_db_setup()[0]):
        logger.info(f"Instance {owner}/{name} exists already, loading it")
        from ._load_instance import load

        return load(f"{owner}/{name}")

    from ._hub import get_storage_region

    isettings = InstanceSettings(
        owner=owner,
        name=name,
        storage_root=storage,
        storage_region=get_storage_region(str(storage)),
        db=db,
        schema=schema_str or None,
    )
    from .dev._django import check_apps_installed, schema_apps

    check_apps_installed(isettings, schema_apps(isettings))  # before anything is created
    if _test:
        isettings._persist()
        return None
    if isettings.dialect == "postgresql":
        from .dev._dbprobe import connect_postgres

        connect_postgres(isettings.db).close()  # fail fast with a clear message
    if isettings.is_cloud_sqlite:
        _check_cloud_sqlite_file(isettings)

    hub = get_hub()
    registered = False
    if isettings.is_remote:
        response = hub.init_instance(
            owner=owner,
            name=name,
            storage=isettings.storage.root_as_str,
            db=db,
            schema=schema_str or None,
            storage_region=isettings.storage.region,
        )
        if response not in (None, "instance-exists-already"):
            raise SetupRuntimeError(
                f"Could not register instance {owner}/{name} on hub: {response}"
            )
        registered = response is None
    else:
        logger.hint("Not registering local instance on hub, if you want, call `lamin register`")
    try:
        _create_database(isettings, user)
    except BaseException:
        if registered:
            hub.delete_instance(owner, name)
        raise
    isettings._persist()
    from .dev._setup_schema import mark_instance_loaded

    mark_instance_loaded()
    logger.success(f"Loaded instance: {isettings.identifier}")
    return None


def _check_cloud_sqlite_file(isettings) -> None:
    if isettings._sqlite_file_local.exists() and not isettings._sqlite_file.exists():
        raise SetupRuntimeError(
            f"The cache has {isettings._sqlite_file_local} but the cloud file "
            f"{isettings._sqlite_file} is gone: delete the cache file "
            "or restore the cloud file, then init again"
        )


def _create_database(isettings, user) -> None:
    """Create the tables and insert the user and storage rows (cloud SQLite: under the lock)."""
    from .dev._django import django_is_configured, schema_apps, setup_django
    from .dev._setup_schema import (
        apply_migrations,
        migrations_in_sync,
        register_user_and_storage,
    )

    with isettings._cloud_sqlite_locker:
        if isettings.storage.is_cloud:
            isettings._sqlite_file_local.parent.mkdir(parents=True, exist_ok=True)
            if isettings.is_cloud_sqlite and isettings._update_local_sqlite_file():
                # never overwrite a database that is already in the bucket: adopt it
                logger.info(f"Using the existing database {isettings._sqlite_file}")
        else:
            isettings.storage.root  # noqa: B018  (creates the local folder)
        if isettings.dialect == "sqlite" and not isettings._sqlite_file_local.exists():
            _create_sqlite_from_template(isettings)
        if isettings.dialect == "sqlite" and migrations_in_sync(isettings, schema_apps(isettings)):
            from .dev._dbprobe import register_in_sqlite

            # fast path: a migrated file needs two rows, no Django
            register_in_sqlite(isettings, user)
            if django_is_configured():
                setup_django(isettings)  # re-point this process at the new instance
        else:
            setup_django(isettings)
            apply_migrations(isettings)
            register_user_and_storage(isettings, user)
        if isettings.is_cloud_sqlite:
            if django_is_configured():
                from django.db import connections

                connections.close_all()
            isettings._update_cloud_sqlite_file()


def _create_sqlite_from_template(isettings) -> None:
    """Copy a cached pre-migrated database; build and cache it on first use."""
    from .dev._django import schema_apps, setup_django
    from .dev._setup_schema import (
        apply_migrations,
        copy_file_atomic,
        create_sqlite_from_dump,
        shipped_sqlite_dump,
        sqlite_template,
    )

    local = isettings._sqlite_file_local
    apps = schema_apps(isettings)
    template = sqlite_template(apps)
    if not template.exists():
        dump = shipped_sqlite_dump(apps)
        if dump is not None:
            create_sqlite_from_dump(dump, template)
    if template.exists():
        copy_file_atomic(template, local)
        return
    setup_django(isettings)
    apply_migrations(isettings)
    from django.db import connections

    connections.close_all()
    copy_file_atomic(local, template)
