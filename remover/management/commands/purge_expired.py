from django.core.management.base import BaseCommand

from remover.processing.jobs import purge_expired


class Command(BaseCommand):
    help = (
        "Delete jobs (rows and files) past their expiry time, CLEARCUT_RETENTION_HOURS after upload. "
        "The running server also does this every CLEARCUT_SWEEP_SECONDS; run this from cron when it does not."
    )

    def handle(self, *args, **options):
        deleted = purge_expired()
        self.stdout.write(f"Deleted {len(deleted)} expired job(s).")
