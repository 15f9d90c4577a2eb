"""Fill shared fragments (`lamindb_setup._docstrings`) into docstrings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def doc_args(*fragments: str) -> Callable[[F], F]:
    """Decorator: format the function's docstring with `fragments` (`{}` placeholders)."""

    def decorator(func: F) -> F:
        if func.__doc__:
            func.__doc__ = func.__doc__.format(*fragments)
        return func

    return decorator
