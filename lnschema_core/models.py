"""Models of the core schema."""

from __future__ import annotations

import keyword
import re
import sys
from collections import namedtuple
from pathlib import Path

from django.db import models

from . import ids
from ._queryset import MultipleResultsFound, NoResultFound, QuerySet
from .types import TransformType
from .users import current_user_id

__all__ = [
    "BaseORM",
    "User",
    "Storage",
    "Project",
    "Transform",
    "Run",
    "RunInput",
    "Features",
    "Folder",
    "File",
    "NoResultFound",
    "MultipleResultsFound",
]

_SECRET_FIELDS = {"password", "access_token", "token", "secret"}


def _identifier(value: object) -> str:
    text = re.sub(r"\W+", "_", str(value).strip().lower()).strip("_")
    if not text:
        return ""
    if text[0].isdigit():
        # namedtuple fields may not start with "_" (they would be renamed to `_0`, `_1`…)
        text = f"n{text}"
    if keyword.iskeyword(text):
        text = f"{text}_"
    return text


class BaseORM(models.Model):
    """Base of the core models: a readable repr and `lookup()`."""

    objects = QuerySet.as_manager()

    class Meta:
        abstract = True

    def __repr__(self) -> str:
        fields = []
        for field in self._meta.concrete_fields:
            if field.name in _SECRET_FIELDS:
                continue
            value = getattr(self, field.attname)
            if value is None:
                continue
            fields.append(f"{field.attname}={value!r}")
        return f"{self.__class__.__name__}({', '.join(fields)})"

    __str__ = __repr__

    @classmethod
    def lookup(cls, field: str | None = None):
        """A namedtuple of records keyed by their `field` value, for tab completion."""
        names = [f.name for f in cls._meta.concrete_fields]
        if field is None:
            field = "name" if "name" in names else next(n for n in names if n != "id")
        if field not in names:
            raise ValueError(f"{cls.__name__} has no field {field!r}; choose from {names}")
        records: dict[str, models.Model] = {}
        # oldest first, so a new record never takes the plain key of an older one
        order = ("created_at", "pk") if "created_at" in names else ("pk",)
        for record in cls.objects.all().order_by(*order):
            value = getattr(record, field)
            key = "" if value is None else _identifier(value)
            if not key:
                continue
            unique, n = key, 2
            while unique in records:
                unique, n = f"{key}_{n}", n + 1
            records[unique] = record
        Lookup = namedtuple(f"{cls.__name__}Lookup", list(records), rename=True)
        return Lookup(**dict(zip(Lookup._fields, records.values(), strict=True)))


class User(BaseORM):
    """A user: the creator of records."""

    id = models.CharField(max_length=8, primary_key=True)
    email = models.CharField(max_length=255, unique=True)
    handle = models.CharField(max_length=30, unique=True, db_index=True)
    name = models.CharField(max_length=255, db_index=True, null=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True, null=True)


class Storage(BaseORM):
    """A storage location: a local folder or a cloud bucket."""

    id = models.CharField(max_length=8, default=ids.storage, primary_key=True)
    root = models.CharField(max_length=255, db_index=True, default=None)
    type = models.CharField(max_length=30, db_index=True)
    region = models.CharField(max_length=63, db_index=True, null=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True, null=True)
    created_by = models.ForeignKey(
        User, models.PROTECT, default=current_user_id, related_name="created_storages"
    )


class Project(BaseORM):
    """A project: a named collection of folders and files."""

    id = models.CharField(max_length=8, default=ids.project, primary_key=True)
    name = models.CharField(max_length=255, db_index=True, default=None)
    folders = models.ManyToManyField("Folder", related_name="projects")
    files = models.ManyToManyField("File", related_name="projects")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True, null=True)
    created_by = models.ForeignKey(
        User, models.PROTECT, default=current_user_id, related_name="created_projects"
    )


def _default_transform_type() -> str:
    return (
        TransformType.notebook.value if "IPython" in sys.modules else TransformType.pipeline.value
    )


class Transform(BaseORM):
    """A pipeline, notebook or app that transforms data."""

    id = models.CharField(max_length=12, default=ids.transform, primary_key=True)
    name = models.CharField(max_length=255, db_index=True, null=True, default=None)
    hash = models.CharField(max_length=12, db_index=True, null=True, default=None)
    version = models.CharField(max_length=10, default="0", db_index=True)
    type = models.CharField(
        max_length=20,
        choices=[(t.value, t.value) for t in TransformType],
        db_index=True,
        default=_default_transform_type,
    )
    title = models.TextField(null=True, default=None)
    reference = models.CharField(max_length=255, db_index=True, null=True, default=None)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True, null=True)
    created_by = models.ForeignKey(
        User, models.PROTECT, default=current_user_id, related_name="created_transforms"
    )

    class Meta:
        unique_together = (("name", "version"),)


class Run(BaseORM):
    """One execution of a transform."""

    id = models.CharField(max_length=20, default=ids.run, primary_key=True)
    name = models.CharField(max_length=255, null=True, default=None)
    external_id = models.CharField(max_length=255, db_index=True, null=True, default=None)
    transform = models.ForeignKey(Transform, models.CASCADE, related_name="runs")
    inputs = models.ManyToManyField("File", through="RunInput", related_name="input_of")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        User, models.CASCADE, default=current_user_id, related_name="created_runs"
    )


class RunInput(BaseORM):
    """Link of a run to one of its input files."""

    run = models.ForeignKey(Run, models.CASCADE)
    file = models.ForeignKey("File", models.CASCADE)

    class Meta:
        unique_together = (("run", "file"),)


class Features(BaseORM):
    """A set of features measured in files."""

    id = models.CharField(max_length=63, primary_key=True)
    type = models.CharField(max_length=96)
    files = models.ManyToManyField("File", related_name="features")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        User, models.CASCADE, default=current_user_id, related_name="created_features"
    )


def _storage_path(storage: Storage, key: str):
    root = storage.root
    if root.startswith(("s3://", "gs://")):
        from lamindb_setup.dev.upath import create_path

        return create_path(f"{root}/{key}")
    return Path(root) / key


class Folder(BaseORM):
    """A folder of files in a storage."""

    id = models.CharField(max_length=20, default=ids.folder, primary_key=True)
    name = models.CharField(max_length=255, db_index=True)
    key = models.CharField(max_length=255, db_index=True, null=True, default=None)
    storage = models.ForeignKey(Storage, models.PROTECT, related_name="folders")
    files = models.ManyToManyField("File", related_name="folders")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True, null=True)
    created_by = models.ForeignKey(
        User, models.PROTECT, default=current_user_id, related_name="created_folders"
    )

    class Meta:
        unique_together = (("storage", "key"),)

    def path(self):
        """The folder's path: storage root / (key or name)."""
        return _storage_path(self.storage, self.key if self.key is not None else self.name)


class File(BaseORM):
    """A file in a storage."""

    id = models.CharField(max_length=20, default=ids.file, primary_key=True)
    name = models.CharField(max_length=255, db_index=True, null=True, default=None)
    suffix = models.CharField(max_length=30, db_index=True, null=True, default=None)
    size = models.BigIntegerField(null=True, db_index=True, default=None)
    hash = models.CharField(max_length=86, db_index=True, null=True, default=None)
    key = models.CharField(max_length=255, db_index=True, null=True, default=None)
    run = models.ForeignKey(Run, models.PROTECT, related_name="outputs", null=True, default=None)
    transform = models.ForeignKey(
        Transform, models.PROTECT, related_name="files", null=True, default=None
    )
    storage = models.ForeignKey(Storage, models.PROTECT, related_name="files")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True, null=True)
    created_by = models.ForeignKey(
        User, models.PROTECT, default=current_user_id, related_name="created_files"
    )

    class Meta:
        unique_together = (("storage", "key"),)

    def path(self):
        """The file's path: storage root / (key or id + suffix)."""
        key = self.key if self.key is not None else f"{self.id}{self.suffix or ''}"
        return _storage_path(self.storage, key)
