"""User-facing errors: the CLI prints them as one line and exits 1."""

from __future__ import annotations


class SetupError(Exception):
    """Base of errors caused by the user's input or environment, not by a bug."""


class SetupRuntimeError(SetupError, RuntimeError):
    """A user-facing error that is also a `RuntimeError`."""


class SetupValueError(SetupError, ValueError):
    """A user-facing error about a bad argument (also a `ValueError`)."""


class SettingsFileError(SetupRuntimeError):
    """A settings file is missing a key or cannot be parsed."""


class NotLoggedInError(SetupRuntimeError):
    """No user is logged in on this machine."""


class NoInstanceLoadedError(SetupRuntimeError):
    """No instance is loaded in `~/.lamin/current_instance.env`."""


class DatabaseConnectionError(SetupRuntimeError):
    """The instance's database cannot be reached."""
