"""`signup` and `login`: create an account and cache its credentials in `~/.lamin`."""

from __future__ import annotations

import re
from typing import Optional

from ._settings import settings
from .dev import _logger as logger
from .dev._errors import SetupRuntimeError, SetupValueError
from .dev._settings_store import (
    settings_dir,
    user_settings_file_email,
    user_settings_file_handle,
)

_EMAIL = re.compile(r"^[^@\s/\\]+@[^@\s/\\]+\.[^@\s/\\]+$")


def _validate_email(email: str) -> None:
    if not isinstance(email, str) or not _EMAIL.match(email):
        raise SetupValueError(f"Invalid email {email!r}: use an address like you@example.com")


def signup(email: str) -> Optional[str]:
    """Sign up with an email; returns `None` or `"user-exists"` / `"handle-exists"`."""
    from ._hub import get_hub
    from .dev._settings_save import save_user_settings
    from .dev._settings_user import UserSettings

    _validate_email(email)
    response = get_hub().sign_up(email)
    if response in ("user-exists", "handle-exists"):
        if response == "user-exists":
            logger.error(
                f"Sign-up failed: an account with {email} exists already (user-exists); "
                f"log in with `lamin login {email}`"
            )
        else:
            handle = email.split("@", 1)[0]
            logger.error(
                f"Sign-up failed: the handle {handle!r} is taken (handle-exists); "
                "sign up with an email whose part before '@' differs"
            )
        return response
    password = response
    save_user_settings(UserSettings(email=email, password=password))
    settings._set_user(None)
    logger.success(
        f"Signed up {email}\n"
        f"Generated password: {password}\n"
        f"Email & password are cached at: {settings_dir()}\n"
        "Going forward, credentials are loaded automatically."
    )
    result = login(email, password=password)
    return None if result is None else result


def login(user: str, *, password: Optional[str] = None) -> Optional[str]:
    """Log in with an email or a cached handle; `None` on success, else a soft error.

    Soft errors: `"could-not-login"` (wrong email or password), `"complete-signup"`.
    """
    from ._hub import get_hub
    from .dev._settings_load import load_user_settings
    from .dev._settings_save import save_user_settings
    from .dev._settings_user import UserSettings

    if not isinstance(user, str) or not user:
        raise SetupValueError("Pass your email or handle: lamin login <email|handle>")
    if "@" in user:
        email, handle = user, None
        cache = user_settings_file_email(email)
    else:
        email, handle = None, user
        cache = user_settings_file_handle(handle)
        if not cache.exists():
            raise SetupRuntimeError(
                f"No cached credentials for handle {handle!r}: log in with your email the "
                "first time on this machine: lamin login <email>"
            )
    cached = load_user_settings(cache) if cache.exists() else UserSettings(email=email)
    email = cached.email or email
    if password is None:
        password = cached.password
    if password is None:
        raise SetupRuntimeError(
            f"No password for {user} is cached: pass it with "
            f"`lamin login {user} --password <password>`"
        )
    response = get_hub().sign_in(email, password, handle)
    if isinstance(response, str):
        if response == "could-not-login":
            logger.error(f"Could not login {email}: wrong email or password")
        else:
            logger.error(f"Could not login {email}: {response}")
        return response
    user_id, user_handle, user_name, access_token = response
    user_settings = UserSettings(
        email=email,
        password=password,
        access_token=access_token,
        id=user_id,
        handle=user_handle,
        name=user_name,
    )
    save_user_settings(user_settings)
    settings._set_user(user_settings)
    logger.success(f"Logged in with email {email} (handle: {user_handle}, id: {user_id})")
    return None
