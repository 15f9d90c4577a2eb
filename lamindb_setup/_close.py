"""`close`: unload the current instance."""

from __future__ import annotations

from .dev import _logger as logger


def close() -> None:
    """Unload the current instance (its settings stay in `~/.lamin`)."""
    from ._settings import settings
    from .dev._settings_store import current_instance_settings_file

    path = current_instance_settings_file()
    if not path.exists():
        settings._set_instance(None)
        logger.info("No instance loaded")
        return None
    try:
        identifier = settings.instance.identifier
    except Exception:  # an unreadable file is closed all the same
        identifier = path.name
    path.unlink(missing_ok=True)
    settings._set_instance(None)
    logger.success(f"Closed {identifier}")
    return None
