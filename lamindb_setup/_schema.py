"""`schema`: the tables of the loaded instance and their relations."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

from .dev import _logger as logger
from .dev._errors import SetupRuntimeError

# suffixes written as DOT text; any other suffix is a Graphviz output format
_DOT_SUFFIXES = ("", ".dot", ".gv")


def _models():
    from django.apps import apps

    from ._settings import settings
    from .dev._django import schema_apps, setup_django

    isettings = settings.instance
    setup_django(isettings)
    labels = set(schema_apps(isettings))
    models = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in labels
    ]
    return sorted(models, key=lambda model: model._meta.db_table)


class schema:
    """Inspect the schema of the loaded instance."""

    @staticmethod
    def list_entities() -> list[str]:
        """Table names of the loaded instance's schema modules, sorted."""
        return [model._meta.db_table for model in _models()]

    @staticmethod
    def draw(path: Optional[Union[str, Path]] = None) -> str:
        """Graphviz DOT text of the tables (with their columns) and foreign keys.

        Args:
            path: Also write the graph here: `.dot`/`.gv` as text, any other suffix
                (`.svg`, `.png`, `.pdf`) rendered by Graphviz `dot` when it is installed.
        """
        dot = _dot_text(_models())
        if path is not None:
            _write_graph(dot, Path(path))
        return dot


def _dot_text(models) -> str:
    lines = [
        "digraph schema {",
        "  rankdir=LR;",
        '  node [shape=record, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    edges = []
    for model in models:
        table = model._meta.db_table
        columns = "".join(f"{field.column}\\l" for field in model._meta.concrete_fields)
        lines.append(f'  "{table}" [label="{{{table}|{columns}}}"];')
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is not None:
                target = field.related_model._meta.db_table
                edges.append(f'  "{table}" -> "{target}" [label="{field.column}"];')
    lines.extend(edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _write_graph(dot: str, path: Path) -> None:
    import shutil
    import subprocess

    if path.suffix.lower() in _DOT_SUFFIXES:
        path.write_text(dot)
        return
    executable = shutil.which("dot")
    if executable is None:
        fallback = path.with_suffix(".dot")
        fallback.write_text(dot)
        logger.warning(
            f"Graphviz `dot` is not installed, so wrote {fallback} instead of {path}; "
            f"render it with `dot -T{path.suffix[1:]} {fallback} -o {path}`"
        )
        return
    result = subprocess.run(
        [executable, f"-T{path.suffix[1:].lower()}", "-o", str(path)],
        input=dot,
        text=True,
        capture_output=True,
    )
    if result.returncode != 0:
        raise SetupRuntimeError(f"Graphviz could not render {path}: {result.stderr.strip()}")
