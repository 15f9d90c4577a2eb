from django.apps import AppConfig


class LnschemaTestmodConfig(AppConfig):
    name = "lnschema_testmod"
    label = "lnschema_testmod"
    default_auto_field = "django.db.models.BigAutoField"
