from django.apps import AppConfig


class LnschemaCoreConfig(AppConfig):
    name = "lnschema_core"
    label = "lnschema_core"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "LaminDB core schema"
