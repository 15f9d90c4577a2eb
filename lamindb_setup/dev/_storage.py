"""Settings of a storage location: a local folder or an s3:// or gs:// bucket."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from upath import UPath

    from ._settings_instance import InstanceSettings

CLOUD_PROTOCOLS = ("s3", "gs")


def storage_type(root: str) -> str:
    """`"s3"`, `"gs"` or `"local"` for a storage root string."""
    for protocol in CLOUD_PROTOCOLS:
        if root.startswith(f"{protocol}://"):
            return protocol
    return "local"


def normalize_root(root: Union[str, Path]) -> str:
    """The canonical string of a root: cloud URL without trailing slash, or absolute path."""
    text = str(root)
    if storage_type(text) != "local":
        return text.rstrip("/")
    return Path(text).expanduser().resolve().as_posix()


def cache_root() -> Path:
    """The user cache dir of lamindb (created)."""
    from platformdirs import user_cache_dir

    path = Path(user_cache_dir("lamindb", "laminlabs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class StorageSettings:
    """Storage location of an instance: its root, type, region and cache."""

    def __init__(
        self,
        root: Union[str, Path],
        instance_settings: InstanceSettings | None = None,
        region: str | None = None,
    ):
        self._root_str = normalize_root(root)
        self._instance_settings = instance_settings
        self._region = region
        self._root: Any = None
        self._fs_kwargs: dict[str, Any] = {}
        self._id: str | None = None

    @property
    def type(self) -> str:
        """`"s3"`, `"gs"` or `"local"`."""
        return storage_type(self._root_str)

    @property
    def is_cloud(self) -> bool:
        return self.type != "local"

    @property
    def region(self) -> str | None:
        return self._region

    @property
    def root_as_str(self) -> str:
        """Posix string of the root without trailing slash."""
        return self._root_str

    @property
    def root(self) -> Union[Path, UPath]:
        """The root: a `UPath` for cloud storage, else a local `Path` (created if missing)."""
        if self._root is None:
            if self.is_cloud:
                from .upath import create_path

                self._root = create_path(self._root_str, **self._fs_kwargs)
            else:
                path = Path(self._root_str)
                path.mkdir(parents=True, exist_ok=True)
                self._root = path
        return self._root

    def _set_fs_kwargs(self, **kwargs) -> None:
        """Rebuild a cloud root with extra fsspec arguments (e.g. `cache_regions=False`)."""
        self._fs_kwargs.update(kwargs)
        self._root = None
        if self.is_cloud:
            _ = self.root

    @property
    def cache_dir(self) -> Path | None:
        """Local cache of cloud objects; `None` for local storage."""
        if not self.is_cloud:
            return None
        return cache_root()

    @property
    def id(self) -> str:
        """Primary key of this root's row in the core Storage table."""
        if self._id is None:
            if self._instance_settings is not None:
                from ._django import setup_django

                setup_django(self._instance_settings)
            from lnschema_core.models import Storage

            self._id = Storage.objects.get(root=self.root_as_str).id
        return self._id

    def key_to_filepath(self, key: Union[str, Path]) -> Union[Path, UPath]:
        """The path of `key` in the storage."""
        return self.root / str(key)

    def cloud_to_local_no_update(self, filepath: Union[str, Path, UPath]) -> Path:
        """The cache path of a cloud object (`cache_dir / bucket / key`), without syncing."""
        text = str(filepath)
        if storage_type(text) == "local":
            return Path(text)
        bucket_and_key = text.split("://", 1)[1].lstrip("/")
        return cache_root().joinpath(*bucket_and_key.split("/"))

    def cloud_to_local(self, filepath: Union[str, Path, UPath], **kwargs) -> Path:
        """The cache path of a cloud object, synchronized with the cloud first."""
        local = self.cloud_to_local_no_update(filepath)
        if storage_type(str(filepath)) != "local":
            from .upath import create_path, synchronize

            local.parent.mkdir(parents=True, exist_ok=True)
            synchronize(create_path(str(filepath), **self._fs_kwargs), local, **kwargs)
        return local

    def local_filepath(self, key: Union[str, Path]) -> Path:
        """The local path of `key`: the cache path for cloud storage."""
        if self.is_cloud:
            return self.cloud_to_local_no_update(self.key_to_filepath(key))
        return Path(self.key_to_filepath(key))

    def __repr__(self) -> str:
        return (
            f"StorageSettings(root={self.root_as_str!r}, type={self.type!r}, "
            f"region={self.region!r})"
        )


def local_root_exists(root: str) -> bool:
    """Whether a local root exists (cloud roots count as existing)."""
    return storage_type(root) != "local" or os.path.isdir(root)
