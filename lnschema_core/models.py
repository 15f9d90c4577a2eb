"""Models of the core schema."""

from __future__ import annotations

import datetime
import keyword
import re
import sys
from collections import namedtuple
from typing import Any

from django.db import models

from lamindb_setup._check_instance_setup import _check_instance_setup
from lamindb_setup.dev._logger import mask_secrets

from . import _features, _file, _folder, _paths, ids
from ._queryset import MultipleResultsFound, NoResultFound, QuerySet
from ._sync import instance_write
from .types import PathLike, TransformType
from .users import current_user_id

# models need a configured Django: importing them sets it up for the loaded instance
if not _check_instance_setup():
    raise ImportError(
        "lnschema_core.models needs an instance: run `lamin load <instance>` "
        "or `lamin init --storage <root>` first"
    )

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
    """`value` as a valid Python identifier for a lookup key; `""` if nothing is left."""
    chars = [ch if f"a{ch}".isidentifier() else "_" for ch in str(value).strip().lower()]
    text = re.sub(r"_+", "_", "".join(chars)).strip("_")
    if not text:
        return ""
    if not text[0].isidentifier():
        # a digit may not start an identifier, and namedtuple fields may not start
        # with "_" (they would be renamed to `_0`, `_1`…)
        text = f"n{text}"
    if keyword.iskeyword(text):
        text = f"{text}_"
    return text


def _repr_value(value: object) -> str:
    if isinstance(value, str):
        return mask_secrets(repr(value))
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")  # stored in UTC
    return repr(value)


def _is_row(model: type, args: tuple) -> bool:
    """Whether positional `args` are a database row: Django's `from_db` passes every field."""
    return len(args) == len(model._meta.concrete_fields)


def _check_keywords(model: type, kwargs: dict) -> None:
    """Raise `ValueError` for keywords that are neither fields nor properties of `model`."""
    opts = model._meta
    known = set(opts._property_names)
    for field in opts.concrete_fields:
        known.update((field.name, field.attname))
    unknown = sorted(set(kwargs) - known)
    if not unknown:
        return
    links = [name for name in unknown if name in {f.name for f in opts.many_to_many}]
    if links:
        raise ValueError(
            f"{model.__name__}() cannot take the links {', '.join(links)}: save the record, "
            f"then add them, e.g. record.{links[0]}.add(...)"
        )
    fields = ", ".join(f.name for f in opts.concrete_fields)
    raise ValueError(
        f"{model.__name__}() got unknown keyword(s) {', '.join(unknown)}; its fields: {fields}"
    )


def _data_arguments(
    model: str, data: str, args: tuple, kwargs: dict, allowed: tuple[str, ...]
) -> tuple[Any, dict]:
    """Split `Model(data, **options)`: the data and the options, checked against `allowed`."""
    usage = f"{model}({data}, {', '.join(f'{name}=...' for name in allowed)})"
    if len(args) > 1:
        raise ValueError(f"{model}() takes one positional argument: {usage}")
    if args and data in kwargs:
        raise ValueError(f"{model}() got {data} twice: {usage}")
    value = args[0] if args else kwargs.pop(data)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"{model}() got unknown keyword(s) {', '.join(unknown)}: {usage}")
    return value, kwargs


class BaseORM(models.Model):
    """Base of the core models: a readable repr and `lookup()`."""

    objects = QuerySet.as_manager()

    class Meta:
        abstract = True

    def __init__(self, *args, **kwargs):
        if args and not _is_row(type(self), args):
            raise ValueError(
                f"{type(self).__name__}() takes keyword arguments, e.g. "
                f"{type(self).__name__}(name=...)"
            )
        if kwargs:
            _check_keywords(type(self), kwargs)
        super().__init__(*args, **kwargs)

    def save(self, *args, **kwargs) -> None:
        """Save the record (for cloud SQLite: under the write lock, then uploaded)."""
        with instance_write():
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        """Delete the record (for cloud SQLite: under the write lock, then uploaded)."""
        with instance_write():
            return super().delete(*args, **kwargs)

    def __repr__(self) -> str:
        fields = []
        for field in self._meta.concrete_fields:
            if field.name in _SECRET_FIELDS:
                continue
            value = getattr(self, field.attname, None)
            if value is None:
                continue
            fields.append(f"{field.attname}={_repr_value(value)}")
        return f"{self.__class__.__name__}({', '.join(fields)})"

    __str__ = __repr__

    @classmethod
    def lookup(cls, field: str | None = None):
        """A namedtuple of records keyed by their `field` value, for tab completion."""
        concrete = {f.name: f for f in cls._meta.concrete_fields}
        names = list(concrete)
        if field is None:
            pk = cls._meta.pk.name
            field = "name" if "name" in names else next(n for n in names if n not in ("id", pk))
        if field not in names:
            raise ValueError(f"{cls.__name__} has no field {field!r}; choose from {names}")
        attname = concrete[field].attname  # a foreign key gives its id, not a query
        records: dict[str, models.Model] = {}
        # oldest first, so a new record never takes the plain key of an older one
        order = ("created_at", "pk") if "created_at" in names else ("pk",)
        for record in cls.objects.all().order_by(*order):
            value = getattr(record, attname)
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

    def __init__(self, *args, **kwargs):
        if kwargs.get("type") is not None:
            try:
                kwargs["type"] = TransformType(kwargs["type"]).value
            except ValueError:
                choices = ", ".join(t.value for t in TransformType)
                raise ValueError(
                    f"Unknown transform type {kwargs['type']!r}; choose from {choices}"
                ) from None
        if kwargs.get("version") is not None:
            kwargs["version"] = str(kwargs["version"])
        super().__init__(*args, **kwargs)


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
    """A set of features measured in files.

    `Features(values, type=...)`: the id is a stable hash of the distinct, sorted
    values and the type, so the same feature set always gets the same record.
    """

    id = models.CharField(max_length=63, primary_key=True)
    type = models.CharField(max_length=96)
    files = models.ManyToManyField("File", related_name="features")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        User, models.CASCADE, default=current_user_id, related_name="created_features"
    )

    def __init__(self, *args, **kwargs):
        if _is_row(Features, args) or (not args and "values" not in kwargs):
            super().__init__(*args, **kwargs)
            return
        values, options = _data_arguments("Features", "values", args, kwargs, ("type",))
        type_name = _features.type_name(options.get("type"))
        super().__init__(id=_features.features_id(values, type_name), type=type_name)

    def save(self, *args, **kwargs) -> None:
        """Save the feature set; if it is registered already, become that record."""
        with instance_write():
            existing = None
            if self._state.adding:
                existing = Features.objects.filter(id=self.id).first()
            if existing is None:
                super().save(*args, **kwargs)
                return
            self.created_at, self.created_by_id = existing.created_at, existing.created_by_id
            self._state.adding, self._state.db = False, existing._state.db


class Folder(BaseORM):
    """A folder of files in a storage.

    `Folder(path, *, key=None, name=None)` makes one `File` per file under `path`;
    `Folder(files=[...], name=...)` groups existing files. `save()` stores and saves
    the files and the folder together.
    """

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

    _files: list | None = None  # files to save with the folder

    class Meta:
        unique_together = (("storage", "key"),)

    def __init__(self, *args, **kwargs):
        if _is_row(Folder, args) or (not args and not {"path", "files"} & kwargs.keys()):
            super().__init__(*args, **kwargs)
            return
        if "files" in kwargs:
            if args or "path" in kwargs:
                raise ValueError("Folder() takes a path or files=[...], not both")
            files = kwargs.pop("files")
            _, options = _data_arguments("Folder", "files", (files,), kwargs, ("name",))
            fields, files = _folder.fields_from_files(files, **options)
        else:
            path, options = _data_arguments("Folder", "path", args, kwargs, ("key", "name"))
            fields, files = _folder.fields_from_path(path, **options)
        super().__init__(**fields)
        self._files = files

    def save(self, *args, **kwargs) -> None:
        """Store the files' content where needed, then save files and folder together."""
        _folder.save(self, lambda: super(Folder, self).save(*args, **kwargs))

    def path(self):
        """The folder's path: storage root / (key or name)."""
        return _paths.storage_path(
            self.storage.root, self.key if self.key is not None else self.name
        )

    def tree(self, level: int = -1, limit: int = 1000) -> None:
        """Print the folder's files as a tree, `level` deep (-1: all), at most `limit` lines."""
        print(_folder.tree_text(self, level=level, limit=limit))


class File(BaseORM):
    """A file in a storage.

    `File(path, *, key=None, name=None, run=None)` describes a local or cloud file. A
    file inside the storage root is registered where it is; any other file is copied
    into the storage (`root / (key or id + suffix)`) by `save()`, and the record is
    saved only once the copy succeeded.
    """

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

    _source: Any = None  # content to copy into the storage on save()
    _clear_key: str | None = None  # storage key of an object replace() made obsolete

    class Meta:
        unique_together = (("storage", "key"),)

    def __init__(self, *args, **kwargs):
        if _is_row(File, args) or (not args and "path" not in kwargs):
            super().__init__(*args, **kwargs)
            return
        path, options = _data_arguments("File", "path", args, kwargs, ("key", "name", "run"))
        fields, source = _file.fields_from_path(path, **options)
        super().__init__(**fields)
        self._source = source
        _file.hint_new(self)

    def save(self, *args, **kwargs) -> None:
        """Copy the content into the storage if needed, then save the record."""
        _file.save(self, lambda: super(File, self).save(*args, **kwargs))

    def replace(self, path: PathLike, *, run: Run | None = None) -> None:
        """Give the record new content from `path`; `save()` stores it.

        The key keeps its stem and takes the new suffix; the old object is removed
        after the new one is stored.
        """
        _file.replace(self, path, run)

    def delete(self, *args, storage: bool = False, **kwargs):
        """Delete the record; with `storage=True` also the stored object."""
        return _file.delete(self, lambda: super(File, self).delete(*args, **kwargs), storage)

    def path(self):
        """The file's path: storage root / (key or id + suffix)."""
        return _paths.storage_path(self.storage.root, _file.storage_key(self))
