"""`info`: show the current user and instance."""

from __future__ import annotations


def info() -> None:
    """Print the logged-in user and the loaded instance (never secrets)."""
    from ._settings import settings

    if settings._user_exists:
        print(settings.user)
    else:
        print("No user logged in: lamin login <email>")
    if settings._instance_exists:
        print(settings.instance)
    else:
        print("No instance loaded: lamin load <instance>")
