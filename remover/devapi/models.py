"""What the developer API stores: keys, their daily credit counters, the API side of a job
(rendering parameters, webhook) and webhook deliveries.

Imported by remover/models.py, so these are models of the ``remover`` app. Relations to
:class:`~remover.models.Job` are by name: the site's models stay unaware of the API.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete
from django.dispatch import receiver


class ApiKey(models.Model):
    """A secret a developer sends as ``X-Api-Key``.

    The full key is shown once, at creation; only ``prefix`` (public, for lookup and lists) and
    a SHA-256 of the whole key are kept (see remover/devapi/keys.py).
    """

    class Tier(models.TextChoices):
        FREE = "free"
        PRO = "pro"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, help_text="the owner's label for this key")
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    # Needed in clear to sign webhook bodies; shown to the key's owner on the account page.
    webhook_secret = models.CharField(max_length=64)
    tier = models.CharField(max_length=8, choices=Tier.choices, default=Tier.FREE)
    daily_credits = models.PositiveIntegerField(help_text="images per UTC day")
    rate_per_minute = models.PositiveIntegerField(help_text="image requests per minute (bursts up to this many)")
    # Token bucket for the rate limit, kept on the row so every web process shares it.
    rate_tokens = models.FloatField(default=0)
    rate_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (cc_{self.prefix}_…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiKeyUsage(models.Model):
    """Credits one key has used on one UTC day (kept when its jobs are deleted)."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    credits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "day"], name="one_api_counter_per_day")]
        verbose_name_plural = "API key usage"


def background_path(api_job: ApiJob, filename: str) -> str:
    # Named after the job only: no client-supplied text reaches a storage path.
    return f"jobs/{api_job.job_id}-background.{api_job.background_extension or 'bin'}"


class ApiJob(models.Model):
    """The API's side of a job: who asked, how the result is to be rendered, what it cost.

    Deleted with its job (retention purge, or right after a synchronous answer).
    """

    job = models.OneToOneField("remover.Job", on_delete=models.CASCADE, primary_key=True, related_name="api")
    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="jobs")
    params = models.JSONField(default=dict, help_text="rendering parameters, see remover/devapi/params.py")
    background = models.FileField(upload_to=background_path, max_length=200, blank=True)
    background_extension = models.CharField(max_length=8, blank=True)
    synchronous = models.BooleanField(default=False)
    # 1 while the credit counts; a failed image gives it back (remover/devapi/settlement.py).
    credits = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = "API job"


@receiver(post_delete, sender=ApiJob)
def delete_background_file(sender, instance: ApiJob, **kwargs) -> None:
    """Deleted with its job (which deletes its own files): the background image goes too."""
    if instance.background:
        instance.background.storage.delete(instance.background.name)


class WebhookDelivery(models.Model):
    """A signed POST to the client's ``webhook_url`` once its job has finished, retried with back-off."""

    class State(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"  # every attempt failed

    api_job = models.OneToOneField(ApiJob, on_delete=models.CASCADE, primary_key=True, related_name="webhook")
    url = models.URLField(max_length=2000)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
