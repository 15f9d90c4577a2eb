"""QuerySet extras: `df()`, `list()`, `one()`, `one_or_none()`."""

from __future__ import annotations

from django.db import models


class NoResultFound(Exception):
    """`one()` found no record."""


class MultipleResultsFound(Exception):
    """`one()` or `one_or_none()` found more than one record."""


class QuerySet(models.QuerySet):
    """A Django QuerySet with conveniences for notebooks.

    Bulk writes (`update`, `delete`, `bulk_create`) on a cloud SQLite instance hold the
    bucket lock and upload afterwards, as `save()` does.
    """

    def update(self, **kwargs) -> int:
        from ._sync import instance_write

        with instance_write():
            return super().update(**kwargs)

    def delete(self):
        from ._sync import instance_write

        with instance_write():
            return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        from ._sync import instance_write

        with instance_write():
            return super().bulk_create(objs, *args, **kwargs)

    def df(self):
        """The records as a pandas DataFrame indexed by primary key."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("QuerySet.df() needs pandas: pip install pandas") from None
        fields = [field.attname for field in self.model._meta.concrete_fields]
        frame = pd.DataFrame.from_records(list(self.values(*fields)), columns=fields)
        pk = self.model._meta.pk.attname
        return frame.set_index(pk) if pk in frame.columns else frame

    def list(self) -> list:
        """The records as a list."""
        return list(self)

    def one(self):
        """The single record; raises `NoResultFound` or `MultipleResultsFound`."""
        records = list(self[:2])
        if not records:
            raise NoResultFound(f"No {self.model.__name__} matches the query")
        if len(records) > 1:
            raise MultipleResultsFound(f"More than one {self.model.__name__} matches the query")
        return records[0]

    def one_or_none(self):
        """The single record or `None`; raises `MultipleResultsFound` for several."""
        records = list(self[:2])
        if len(records) > 1:
            raise MultipleResultsFound(f"More than one {self.model.__name__} matches the query")
        return records[0] if records else None
