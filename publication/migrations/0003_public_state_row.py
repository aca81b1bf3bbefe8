"""The one ``PublicState`` row, so a public GET never has to write it."""

import uuid

from django.db import migrations
from django.utils import timezone


def create(apps, schema_editor):
    PublicState = apps.get_model("publication", "PublicState")
    PublicState.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"token": uuid.uuid4().hex, "changed_at": timezone.now()}
    )


class Migration(migrations.Migration):
    dependencies = [("publication", "0002_fulltext_engine")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
