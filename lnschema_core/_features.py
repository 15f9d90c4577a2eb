"""The id of a feature set: a stable hash of its sorted values and its type."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

MAX_TYPE = 96


def type_name(type: Any) -> str:
    """The `type` of a feature set as stored: a str, or `app_label.Model` for a model."""
    meta = getattr(type, "_meta", None)
    text = meta.label if meta is not None and hasattr(meta, "label") else type
    if not isinstance(text, str) or not text:
        raise ValueError(f"Features need a type= (a str or a model), got {type!r}")
    if len(text) > MAX_TYPE:
        raise ValueError(f"Type too long ({len(text)} > {MAX_TYPE} characters): {text!r}")
    return text


def _value_text(value: Any) -> str:
    # a record stands for itself by its primary key
    return str(value.pk) if hasattr(value, "_meta") and hasattr(value, "pk") else str(value)


def features_id(values: Any, type: str) -> str:
    """43 url-safe base64 characters of the sha256 of the sorted, distinct values and type.

    Order and repetitions of `values` do not matter: the same set gives the same id.
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError("Features take a list of values, e.g. Features(['CD4', 'CD8'], type=...)")
    items = sorted({_value_text(value) for value in values})
    if not items:
        raise ValueError("Features need at least one value")
    payload = json.dumps({"type": type, "values": items}, separators=(",", ":"))
    digest = hashlib.sha256(payload.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
