"""Set up Django for the loaded instance when schema code needs the models."""

from __future__ import annotations

from .dev._logger import warning


def _check_instance_setup(from_lamindb: bool = False) -> bool:
    """Whether Django is set up for an instance; sets it up for the loaded one if needed."""
    from .dev._django import django_is_configured

    if django_is_configured():
        return True
    from ._settings import settings

    if not settings._instance_exists:
        if from_lamindb:
            warning("No instance is loaded! Call `lamin init` or `lamin load`")
        return False
    from .dev._django import setup_django

    setup_django(settings.instance)
    return True
