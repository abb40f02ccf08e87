from django.core.management.base import BaseCommand

from community import services


class Command(BaseCommand):
    help = (
        "Mark pending invitations past their expiry time expired (run it from "
        "cron, say hourly; accepting checks the time anyway)."
    )

    def handle(self, *args, **options):
        expired = services.invitations_expire()
        self.stdout.write(f"{expired} invitation(s) expired.")
