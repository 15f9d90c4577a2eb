"""`set.storage`: change the default storage of the loaded instance."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from .dev import _logger as logger
from .dev._deprecated import deprecated


def _set_storage(root: Union[str, Path], **fs_kwargs) -> Optional[str]:
    from ._hub import get_hub, get_storage_region, validate_storage_root_arg
    from ._settings import settings
    from .dev._django import setup_django
    from .dev._setup_schema import register_user_and_storage

    isettings = settings.instance
    if isettings.dialect == "sqlite":
        logger.error("Can't set storage for sqlite instances.")
        return "set-storage-failed"
    validate_storage_root_arg(str(root))
    new = isettings._with_storage(root, get_storage_region(str(root)))
    if fs_kwargs:
        new.storage._set_fs_kwargs(**fs_kwargs)
    setup_django(new)
    register_user_and_storage(new, settings.user)
    if new.is_remote:
        get_hub().add_storage(new.storage.root_as_str, settings.user.handle, new.storage.region)
    new._persist()
    logger.success(f"Set storage {new.storage.root_as_str}")
    return None


class set:
    """Settings of the loaded instance."""

    @staticmethod
    def storage(root: Union[str, Path], **fs_kwargs) -> Optional[str]:
        """Set the default storage root; extra keyword arguments go to fsspec.

        Returns `"set-storage-failed"` for SQLite instances, whose database lives in
        the storage root.
        """
        return _set_storage(root, **fs_kwargs)


@deprecated("lamindb_setup.set.storage")
def set_storage(root: Union[str, Path], **fs_kwargs) -> Optional[str]:
    """Deprecated alias of `set.storage`."""
    return _set_storage(root, **fs_kwargs)
