"""`schema`: the tables of the loaded instance and their relations."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union


def _models():
    from django.apps import apps

    from ._settings import settings
    from .dev._django import schema_apps, setup_django

    isettings = settings.instance
    setup_django(isettings)
    labels = set(schema_apps(isettings))
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in labels
    ]


class schema:
    """Inspect the schema of the loaded instance."""

    @staticmethod
    def list_entities() -> list[str]:
        """Table names of the loaded instance's schema modules."""
        return sorted(model._meta.db_table for model in _models())

    @staticmethod
    def draw(path: Optional[Union[str, Path]] = None) -> str:
        """Graphviz DOT text of tables and foreign keys; written to `path` if given."""
        lines = ["digraph schema {", "  rankdir=LR;", "  node [shape=box];"]
        for model in sorted(_models(), key=lambda m: m._meta.db_table):
            table = model._meta.db_table
            lines.append(f'  "{table}";')
            for field in model._meta.concrete_fields:
                if field.is_relation and field.related_model is not None:
                    target = field.related_model._meta.db_table
                    lines.append(f'  "{table}" -> "{target}" [label="{field.attname}"];')
        lines.append("}")
        dot = "\n".join(lines) + "\n"
        if path is not None:
            Path(path).write_text(dot)
        return dot
