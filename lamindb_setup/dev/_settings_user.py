"""The settings of a user: identity and cached credentials."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class UserSettings:
    """User account and credentials as cached in `~/.lamin`."""

    email: str | None = None
    password: str | None = None
    access_token: str | None = None
    id: str | None = None
    handle: str | None = None
    name: str | None = None

    def __repr__(self) -> str:
        # never show the password or the access token
        return "\n".join(
            [
                f"Current user: {self.handle}",
                f"- handle: {self.handle}",
                f"- email: {self.email}",
                f"- id: {self.id}",
            ]
        )

    __str__ = __repr__
