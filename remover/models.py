"""Jobs (one uploaded image and its results) and the daily usage counters behind the quota."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver


def _job_file(job: "Job", kind: str, extension: str) -> str:
    # Flat names built from the job's UUID only: no user-supplied text reaches a storage
    # path, and deleting the files leaves no per-job directory behind.
    return f"jobs/{job.pk}-{kind}.{extension}"


def input_path(job: "Job", filename: str) -> str:
    return _job_file(job, "input", job.input_extension or "bin")


def cutout_path(job: "Job", filename: str) -> str:
    return _job_file(job, "cutout", "png")


def mask_path(job: "Job", filename: str) -> str:
    # The stored mask is gone (masks are rendered from the cut-out's alpha); migration 0001
    # still names this function.
    return _job_file(job, "mask", "png")


def preview_path(job: "Job", filename: str) -> str:
    return _job_file(job, "preview", "png")


def original_path(job: "Job", filename: str) -> str:
    return _job_file(job, "original", "jpg")


class Job(models.Model):
    """One uploaded image on its way through the worker.

    Owner: ``user`` when the upload was made signed in, and always ``owner_key``, a random
    token kept in the browser's session (it survives sign-in, unlike the session key).
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        ERROR = "error"

    OUTPUT_FIELDS = ("cutout", "preview", "original")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_key = models.CharField(max_length=64, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    batch = models.UUIDField(db_index=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    stage = models.CharField(max_length=16, default="queued")
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    options = models.JSONField(default=dict, blank=True)
    # Who runs the job (a Celery task id; empty for the in-process worker) and how many
    # times it was started: see remover.processing.jobs.process_job.
    claimed_by = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    original_name = models.CharField(max_length=255, blank=True, help_text="shown to the owner only; never a path")
    input_extension = models.CharField(max_length=8, blank=True)
    source_bytes = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    input = models.FileField(upload_to=input_path, max_length=200)
    # RGBA PNG, full resolution; stored just after "done" (remover/processing/jobs.py), so briefly empty.
    cutout = models.FileField(upload_to=cutout_path, max_length=200, blank=True)
    preview = models.FileField(upload_to=preview_path, max_length=200, blank=True)  # RGBA PNG, preview size
    original = models.FileField(upload_to=original_path, max_length=200, blank=True)  # upright JPEG, preview size
    # ID photo jobs (options["mode"] == "idphoto"): the compliance report of the photo, which is
    # stored as the cut-out (remover/processing/idphoto_jobs.py).
    idphoto_report = models.JSONField(null=True, blank=True)
    # The owner's touch-up brush strokes over the AI result (remover/processing/edits.py), applied to
    # every download; None = the AI result as it is. edit_revision counts every change, so
    # anything rendered from an older edit can tell it is stale.
    edit = models.JSONField(null=True, blank=True)
    edit_revision = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at"]
        permissions = [("full_resolution", "Can download results at full resolution (Pro)")]

    def __str__(self) -> str:
        return f"{self.original_name or 'image'} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.ERROR)

    def queue_position(self) -> int:
        """1 when this job is next in line, 2 when one job waits before it, ..."""
        return Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=self.created_at).count() + 1

    def stored_files(self) -> list[models.fields.files.FieldFile]:
        return [f for f in (self.input, *(getattr(self, name) for name in self.OUTPUT_FIELDS)) if f]


def renders_folder(job_id) -> str:
    """Where the job's downloads are kept once rendered (remover/web/renders.py)."""
    return f"renders/{job_id}"


@receiver(post_delete, sender=Job)
def delete_job_files(sender, instance: Job, **kwargs) -> None:
    """Whatever deletes a job (delete now, the purge, the admin, a deleted user) deletes its
    files, and the downloads rendered from them."""
    for field_file in instance.stored_files():
        field_file.storage.delete(field_file.name)
    # An output stored after this instance was read (the full-size cut-out follows "done")
    # has its fixed name all the same.
    for name in instance.OUTPUT_FIELDS:
        field = instance._meta.get_field(name)
        default_storage.delete(field.generate_filename(instance, name))
    folder = renders_folder(instance.pk)
    try:
        _, rendered = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in rendered:
        default_storage.delete(f"{folder}/{name}")


class DailyUsage(models.Model):
    """How many images one owner or one IP address has uploaded on one UTC day.

    Kept apart from jobs so that deleting a job does not hand its quota back. ``key`` is a
    keyed hash of the session token, user id or IP address, not the value itself.
    """

    class Scope(models.TextChoices):
        OWNER = "owner"
        USER = "user"
        IP = "ip"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=64)
    day = models.DateField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key", "day"], name="one_counter_per_day")]
        verbose_name_plural = "daily usage"

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:8]}… {self.day}: {self.count}"


# The developer API's models (keys, credits, API jobs, webhooks) live beside its code.
from remover.devapi.models import ApiJob, ApiKey, ApiKeyUsage, WebhookDelivery  # noqa: E402,F401
