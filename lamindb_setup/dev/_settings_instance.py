"""The settings of an instance: owner, name, storage, database and schema modules."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Union
from urllib.parse import urlsplit

from ._logger import mask_secrets
from ._storage import StorageSettings

if TYPE_CHECKING:
    from upath import UPath

LOCAL_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0", "::1")


def db_dialect(db: str | None) -> str:
    """`"postgresql"` for a postgres URL, else `"sqlite"`."""
    if db is not None and db.split("://", 1)[0] in ("postgresql", "postgres"):
        return "postgresql"
    return "sqlite"


def db_host(db: str) -> str | None:
    try:
        return urlsplit(db).hostname
    except ValueError:
        return None


def _lock_options_from_env() -> dict[str, float]:
    """`LAMIN_CLOUD_LOCK_TIMEOUT` / `LAMIN_CLOUD_LOCK_LEASE` (seconds) tune the bucket lock."""
    import os

    options = {}
    for variable, option in (
        ("LAMIN_CLOUD_LOCK_TIMEOUT", "timeout"),
        ("LAMIN_CLOUD_LOCK_LEASE", "lease_seconds"),
    ):
        value = os.environ.get(variable)
        if value:
            try:
                options[option] = float(value)
            except ValueError:
                from ._errors import SetupValueError

                raise SetupValueError(f"{variable}={value!r} is not a number of seconds") from None
    return options


class InstanceSettings:
    """Settings of one instance, as stored in `instance--{owner}--{name}.env`."""

    def __init__(
        self,
        owner: str,
        name: str,
        storage_root: Union[str, Path],
        storage_region: str | None = None,
        db: str | None = None,
        schema: str | None = None,
    ):
        self._owner = owner
        self._name = name
        self._storage = StorageSettings(storage_root, instance_settings=self, region=storage_region)
        self._db = db or None  # None means SQLite in the storage root
        self._schema_str = schema or None
        self._locker: Any = None

    # --- identity -----------------------------------------------------------------

    @property
    def owner(self) -> str:
        return self._owner

    @property
    def name(self) -> str:
        return self._name

    @property
    def identifier(self) -> str:
        """`"{owner}/{name}"`."""
        return f"{self.owner}/{self.name}"

    @property
    def storage(self) -> StorageSettings:
        return self._storage

    @property
    def schema(self) -> set[str]:
        """Names of the configured schema modules (without `core`)."""
        if not self._schema_str:
            return set()
        return {part.strip() for part in self._schema_str.split(",") if part.strip()}

    # --- database -----------------------------------------------------------------

    @property
    def _db_setting(self) -> str | None:
        """The db URL as stored in the settings file (`None` for SQLite)."""
        return self._db

    @property
    def dialect(self) -> str:
        return db_dialect(self._db)

    @property
    def _sqlite_file(self) -> Union[Path, UPath]:
        """The SQLite file in the storage root (a `UPath` for cloud storage)."""
        return self.storage.key_to_filepath(f"{self.name}.lndb")

    @property
    def _sqlite_file_local(self) -> Path:
        """The local path of the SQLite file (the cache copy for cloud storage)."""
        if self.storage.is_cloud:
            return self.storage.cloud_to_local_no_update(
                f"{self.storage.root_as_str}/{self.name}.lndb"
            )
        return Path(self.storage.root_as_str) / f"{self.name}.lndb"

    @property
    def db(self) -> str:
        """The database URL; for SQLite `sqlite:///<local file>` (cloud: synced first)."""
        if self._db is not None:
            return self._db
        if self.is_cloud_sqlite:
            self._update_local_sqlite_file()
        return f"sqlite:///{self._sqlite_file_local.as_posix()}"

    @property
    def is_cloud_sqlite(self) -> bool:
        return self.dialect == "sqlite" and self.storage.is_cloud

    @property
    def is_remote(self) -> bool:
        """Whether the instance has no local component (cloud storage, non-local db)."""
        if not self.storage.is_cloud:
            return False
        if self.dialect == "postgresql" and db_host(self._db) in LOCAL_HOSTS:
            return False
        return True

    def _update_cloud_sqlite_file(self) -> None:
        """Upload the cache copy; then align the cache file's mtime with the cloud's."""
        if not self.is_cloud_sqlite:
            return
        import os

        from .upath import record_version, upload_from

        local = self._sqlite_file_local
        cloud = self._sqlite_file_for_sync()
        upload_from(cloud, local, print_progress=True)  # shown for large files on a terminal
        mtime = record_version(cloud, self._sqlite_version_file)
        os.utime(local, (mtime, mtime))

    def _update_local_sqlite_file(self) -> bool:
        """Download the cloud SQLite file when it differs from the cache copy's version.

        Returns False when the cloud file does not exist.
        """
        if not self.is_cloud_sqlite:
            return True
        from .upath import synchronize

        local = self._sqlite_file_local
        local.parent.mkdir(parents=True, exist_ok=True)
        return synchronize(
            self._sqlite_file_for_sync(),
            local,
            print_progress=True,
            version_file=self._sqlite_version_file,
        )

    @property
    def _sqlite_version_file(self) -> Path:
        """Records the cloud version (ETag) the cache copy was last synchronized with."""
        local = self._sqlite_file_local
        return local.with_name(f".{local.name}.cloud-version")

    def _sqlite_file_for_sync(self):
        """`_sqlite_file`, addressed without a bucket-region lookup when the region is known.

        With `cache_regions=True` s3fs asks S3 for the bucket's region before the first
        request; the settings know it already, which saves a request on every sync.
        """
        storage = self.storage
        if storage.type != "s3" or storage.region is None or storage._fs_kwargs:
            return self._sqlite_file
        from .upath import create_path

        return create_path(
            f"{storage.root_as_str}/{self.name}.lndb",
            cache_regions=False,
            client_kwargs={"region_name": storage.region},
        )

    @property
    def _cloud_sqlite_locker(self):
        """The bucket lock for cloud SQLite writers; a no-op lock otherwise."""
        if self._locker is None:
            from .._settings import settings
            from ._exclusion import get_locker

            user_id = settings.user.id if settings._user_exists else "anonymous"
            self._locker = get_locker(
                self.storage.root_as_str,
                self.name,
                user_id or "anonymous",
                self.is_cloud_sqlite,
                **_lock_options_from_env(),
            )
        return self._locker

    # --- lifecycle ----------------------------------------------------------------

    def _with_storage(self, root: Union[str, Path], region: str | None) -> InstanceSettings:
        """The same instance with another default storage root."""
        return InstanceSettings(
            owner=self.owner,
            name=self.name,
            storage_root=root,
            storage_region=region,
            db=self._db,
            schema=self._schema_str,
        )

    def _persist(self) -> None:
        """Write this instance's settings files and make it the process's instance."""
        from .._settings import settings
        from ._settings_save import save_instance_settings

        if not self.storage.is_cloud:
            Path(self.storage.root_as_str).mkdir(parents=True, exist_ok=True)
        save_instance_settings(self)
        settings._set_instance(self)

    def _is_db_reachable(self) -> bool:
        return self._probe_db()[0] is not None

    def _is_db_setup(self) -> tuple[bool, str]:
        """Whether the database is reachable and has a row in the core user table."""
        n_users, message = self._probe_db()
        if n_users is None:
            return False, message
        if n_users == 0:
            return False, f"The core user table of {self.identifier} has no rows"
        return True, ""

    def _probe_db(self) -> tuple[int | None, str]:
        """Count core users without Django: `(count or None, reason)`."""
        from ._dbprobe import count_core_users

        if self.is_cloud_sqlite and not self._update_local_sqlite_file():  # the one sync
            message = f"The cloud SQLite file {self._sqlite_file} does not exist"
            if self._sqlite_file_local.exists():
                message += (
                    f" but the cache has {self._sqlite_file_local}: delete the cache file "
                    "or restore the cloud file"
                )
            return None, message
        return count_core_users(self)

    def __repr__(self) -> str:
        db = mask_secrets(self._db) if self._db is not None else self._sqlite_db_repr()
        lines = [
            f"Current instance: {self.identifier}",
            f"- owner: {self.owner}",
            f"- name: {self.name}",
            f"- storage root: {self.storage.root_as_str}",
            f"- storage region: {self.storage.region}",
            f"- db: {db}",
            f"- schema: {self._schema_str or ''}",
        ]
        return "\n".join(lines)

    __str__ = __repr__

    def _sqlite_db_repr(self) -> str:
        # no download just to print
        return f"sqlite:///{self._sqlite_file_local.as_posix()}"
