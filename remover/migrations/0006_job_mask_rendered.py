# Masks are rendered from the cut-out's alpha since the full-size cut-out became the one
# full-size output; the stored mask files of existing jobs are deleted first, since nothing
# would purge them once the field is gone.

from django.core.files.storage import default_storage
from django.db import migrations


def delete_stored_masks(apps, schema_editor):
    Job = apps.get_model("remover", "Job")
    for name in Job.objects.exclude(mask="").values_list("mask", flat=True):
        default_storage.delete(name)


class Migration(migrations.Migration):

    dependencies = [
        ('remover', '0005_job_edit'),
    ]

    operations = [
        migrations.RunPython(delete_stored_masks, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='job',
            name='mask',
        ),
    ]
