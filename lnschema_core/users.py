"""The current user's id, used as the default of `created_by` fields."""

from __future__ import annotations


def current_user_id() -> str:
    """Id of the logged-in user."""
    from lamindb_setup._settings import settings

    return settings.user.id
