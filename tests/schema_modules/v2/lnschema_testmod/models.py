from django.db import models


class Thing(models.Model):
    """Something a user made."""

    name = models.CharField(max_length=100, unique=True)
    color = models.CharField(max_length=20, default="blue")
    created_by = models.ForeignKey(
        "lnschema_core.User", models.PROTECT, null=True, default=None, related_name="+"
    )


class Tag(models.Model):
    """A label on a thing (new in v2)."""

    label = models.CharField(max_length=50)
    thing = models.ForeignKey(Thing, models.CASCADE, related_name="tags")
