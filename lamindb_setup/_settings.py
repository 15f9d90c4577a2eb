"""`ln_setup.settings`: the current user, instance and storage, read lazily from `~/.lamin`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .dev._errors import NoInstanceLoadedError, NotLoggedInError
from .dev._settings_store import (
    current_instance_settings_file,
    current_user_settings_file,
    lamin_env,
)

if TYPE_CHECKING:
    from .dev._settings_instance import InstanceSettings
    from .dev._settings_user import UserSettings
    from .dev._storage import StorageSettings


class SetupSettings:
    """Settings of the current user, instance and storage.

    Files are read on first access and cached; the cache is dropped when `HOME`
    or `LAMIN_ENV` change, and updated by every write of this package.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._key: tuple[str | None, str] | None = None
        self._user: UserSettings | None = None
        self._instance: InstanceSettings | None = None

    def _check_key(self) -> None:
        key = (os.environ.get("HOME"), lamin_env())
        if key != self._key:
            self._user = None
            self._instance = None
            self._key = key

    # --- user -----------------------------------------------------------------------

    @property
    def _user_exists(self) -> bool:
        self._check_key()
        return self._user is not None or current_user_settings_file().exists()

    @property
    def user(self) -> UserSettings:
        """The logged-in user (`UserSettings`)."""
        self._check_key()
        if self._user is None:
            from .dev._settings_load import load_user_settings

            path = current_user_settings_file()
            if not path.exists():
                raise NotLoggedInError(
                    "No user is logged in: call `lamin login <email>` (or `lamin signup <email>`)"
                )
            self._user = load_user_settings(path)
        if self._user.id is None:
            raise NotLoggedInError(f"Need to login, first: lamin login {self._user.email}")
        return self._user

    def _set_user(self, user: UserSettings | None) -> None:
        self._check_key()
        self._user = user

    # --- instance ---------------------------------------------------------------------

    @property
    def _instance_exists(self) -> bool:
        self._check_key()
        return self._instance is not None or current_instance_settings_file().exists()

    @property
    def instance(self) -> InstanceSettings:
        """The loaded instance (`InstanceSettings`)."""
        self._check_key()
        if self._instance is None:
            from .dev._settings_load import load_instance_settings

            path: Path = current_instance_settings_file()
            if not path.exists():
                raise NoInstanceLoadedError(
                    "No instance is loaded! Call `lamin init` or `lamin load`"
                )
            self._instance = load_instance_settings(path)
        return self._instance

    def _set_instance(self, isettings: InstanceSettings | None) -> None:
        self._check_key()
        self._instance = isettings

    @property
    def storage(self) -> StorageSettings:
        """The default storage of the loaded instance."""
        return self.instance.storage

    def __repr__(self) -> str:
        parts = []
        parts.append(repr(self.user) if self._user_exists else "No user logged in")
        parts.append(repr(self.instance) if self._instance_exists else "No instance loaded")
        return "\n".join(parts)


settings = SetupSettings()
