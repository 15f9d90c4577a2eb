"""The hub interface: accounts and the registry of instances and storages.

The verbs talk only to `Hub`; `get_hub()` picks the backend (embedded or HTTP).
Results that the user can cause (an existing email, a wrong password, an
unknown instance) are returned as short strings, as the original hub did.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from ..dev._logger import mask_secrets
from ..dev._storage import storage_type  # noqa: F401  (re-exported for the backends)


@dataclass
class InstanceRecord:
    """An instance as the hub registers it."""

    id: str
    owner: str
    name: str
    storage_root: str
    storage_region: str | None
    db: str | None
    schema_str: str | None

    def __repr__(self) -> str:
        db = None if self.db is None else mask_secrets(self.db)  # never show a db password
        return (
            f"InstanceRecord(id={self.id!r}, owner={self.owner!r}, name={self.name!r}, "
            f"storage_root={self.storage_root!r}, storage_region={self.storage_region!r}, "
            f"db={db!r}, schema_str={self.schema_str!r})"
        )


@dataclass
class StorageRecord:
    """A storage location as the hub registers it."""

    id: str
    root: str
    region: str | None
    type: str
    created_by: str | None


def normalize_root(root: str) -> str:
    """`root` without trailing slashes, so `s3://b/` and `s3://b` are one storage."""
    stripped = root.rstrip("/")
    if not stripped or stripped.endswith(":"):
        return root  # "/" or "s3://": nothing sensible to strip
    return stripped


class Hub(abc.ABC):
    """Accounts and the registry of instances; one interface, several backends."""

    @abc.abstractmethod
    def sign_up(self, email: str) -> str:
        """A generated password, or `"user-exists"` or `"handle-exists"`."""

    @abc.abstractmethod
    def sign_in(
        self, email: str, password: str, handle: str | None = None
    ) -> tuple[str, str, str | None, str] | str:
        """`(id, handle, name, access_token)`, or `"could-not-login"` / `"complete-signup"`."""

    @abc.abstractmethod
    def init_instance(
        self,
        *,
        owner: str,
        name: str,
        storage: str,
        db: str | None = None,
        schema: str | None = None,
        storage_region: str | None = None,
    ) -> str | None:
        """`None` once `owner/name` is registered, else an error string."""

    @abc.abstractmethod
    def load_instance(
        self, *, owner: str, name: str, access_token: str | None = None
    ) -> tuple[InstanceRecord, StorageRecord] | str:
        """The instance and its storage, or `"account-not-exists"` / `"instance-not-reachable"`."""

    @abc.abstractmethod
    def add_storage(
        self, root: str, account_handle: str, region: str | None = None
    ) -> StorageRecord:
        """The storage record of `root`, registered now if it was not yet."""

    @abc.abstractmethod
    def delete_instance(self, owner: str, name: str) -> None:
        """Remove `owner/name` from the registry; nothing happens if it is not there."""
