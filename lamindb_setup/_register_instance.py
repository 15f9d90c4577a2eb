"""`register`: register the current instance on the hub."""

from __future__ import annotations

from typing import Optional

from .dev import _logger as logger
from .dev._errors import SetupRuntimeError


def register() -> Optional[str]:
    """Register the loaded instance and its storage on the hub."""
    from ._hub import get_hub
    from ._settings import settings

    isettings = settings.instance
    response = get_hub().init_instance(
        owner=isettings.owner,
        name=isettings.name,
        storage=isettings.storage.root_as_str,
        db=isettings._db_setting,
        schema=isettings._schema_str,
        storage_region=isettings.storage.region,
    )
    if response == "instance-exists-already":
        logger.info(f"Instance {isettings.identifier} is registered on the hub already")
        return None
    if response is not None:
        raise SetupRuntimeError(f"Could not register {isettings.identifier} on hub: {response}")
    logger.success(f"Registered instance {isettings.identifier} on the hub")
    return None
