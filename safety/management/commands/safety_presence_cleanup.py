from django.core.management.base import BaseCommand

from safety import services


class Command(BaseCommand):
    help = (
        "Delete presence rows older than SAFETY_PRESENCE_TTL seconds (they read "
        "as offline anyway). Run it from cron every few minutes."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{services.presence_cleanup()} stale presence rows deleted.")
