import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lnschema_testmod", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="thing",
            name="color",
            field=models.CharField(default="blue", max_length=20),
        ),
        migrations.CreateModel(
            name="Tag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label", models.CharField(max_length=50)),
                (
                    "thing",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tags",
                        to="lnschema_testmod.thing",
                    ),
                ),
            ],
        ),
    ]
