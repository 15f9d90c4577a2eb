"""Mark functions as deprecated."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable


def deprecated(new_name: str) -> Callable:
    """Decorator: calling the function warns that `new_name` replaces it."""

    def decorator(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            warnings.warn(
                f"{func.__name__}() is deprecated, use {new_name}() instead",
                DeprecationWarning,
                stacklevel=2,
            )
            return func(*args, **kwargs)

        return wrapper

    return decorator
