from django.db import models


class Thing(models.Model):
    """Something a user made."""

    name = models.CharField(max_length=100, unique=True)
    created_by = models.ForeignKey(
        "lnschema_core.User", models.PROTECT, null=True, default=None, related_name="+"
    )
