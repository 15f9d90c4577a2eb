"""Configure Django for an instance, once per process, and re-point it between instances."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ._errors import SetupRuntimeError

if TYPE_CHECKING:
    from ._settings_instance import InstanceSettings

_configured_apps: tuple[str, ...] | None = None
_configured_db: str | None = None


def schema_apps(isettings: InstanceSettings) -> tuple[str, ...]:
    """Django apps of an instance: `lnschema_core` then the configured modules, in order."""
    apps = ["lnschema_core"]
    for name in (isettings._schema_str or "").split(","):
        name = name.strip()
        if name and name != "core" and f"lnschema_{name}" not in apps:
            apps.append(f"lnschema_{name}")
    return tuple(apps)


def database_config(db_url: str) -> dict:
    """Django's `DATABASES["default"]` for a db URL."""
    import dj_database_url

    config = dj_database_url.parse(db_url)
    if config["ENGINE"].endswith("postgresql"):
        config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    else:
        config.setdefault("OPTIONS", {})["timeout"] = 30
    return config


def check_apps_installed(isettings: InstanceSettings, apps: tuple[str, ...]) -> None:
    """Raise naming the `pip install` to run when one of the instance's apps is missing."""
    import importlib.util

    missing = [app for app in apps if importlib.util.find_spec(app) is None]
    if missing:
        modules = "schema modules" if len(missing) > 1 else "schema module"
        raise SetupRuntimeError(
            f"Instance {isettings.identifier} needs {modules} {', '.join(missing)}, "
            f"not installed: pip install {' '.join(missing)}"
        )


def setup_django(isettings: InstanceSettings) -> None:
    """Point Django at the instance's database with its schema modules as apps."""
    global _configured_apps, _configured_db
    import django
    from django.conf import settings as dj_settings

    apps = schema_apps(isettings)
    db_url = isettings.db
    if dj_settings.configured:
        if _configured_apps is not None and apps != _configured_apps:
            check_apps_installed(isettings, apps)  # the more useful error comes first
            raise SetupRuntimeError(
                f"This process already uses schema modules {', '.join(_configured_apps)}; "
                f"instance {isettings.identifier} needs {', '.join(apps)}: "
                "start a new Python process to use it"
            )
        if db_url != _configured_db:
            _repoint_database(db_url)
            _configured_db = db_url
        return
    check_apps_installed(isettings, apps)
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # notebooks run an event loop
    dj_settings.configure(
        INSTALLED_APPS=list(apps),
        DATABASES={"default": database_config(db_url)},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        TIME_ZONE="UTC",
        USE_TZ=True,
        MIGRATION_MODULES={},
    )
    django.setup(set_prefix=False)
    _configured_apps = apps
    _configured_db = db_url


def _repoint_database(db_url: str) -> None:
    """Close every connection and make `default` use a new database."""
    from asgiref.local import Local
    from django.conf import settings as dj_settings
    from django.db import connections

    connections.close_all()
    dj_settings.DATABASES = {"default": database_config(db_url)}
    connections.__dict__.pop("settings", None)  # a cached_property of the handler
    connections._settings = None
    connections._connections = Local(connections.thread_critical)


def django_is_configured() -> bool:
    """Whether this process has configured Django (without importing it if not)."""
    import sys

    if "django.conf" not in sys.modules:
        return False
    from django.conf import settings as dj_settings

    return dj_settings.configured


def configured_db() -> str | None:
    return _configured_db
