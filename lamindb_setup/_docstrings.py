"""Shared docstring fragments."""

instance_description = (
    "An instance is a database (SQLite or Postgres) plus a default storage location "
    "(a local folder, s3://bucket or gs://bucket)."
)
