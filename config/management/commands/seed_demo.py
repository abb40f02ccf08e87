from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.seeding import Demo, app_demos


class Command(BaseCommand):
    help = (
        "Fill the database with a small, coherent demo of every app: users with "
        "taglines and profiles, posts, reactions, highlights, badges, and a staff "
        "account whose password it prints. Running it again adds nothing; "
        "--scale N makes N times as much."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Multiply the demo's size (1: 20 users).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo users' password is published).",
        )

    def handle(self, *args, scale, force, **options):
        if scale < 1:
            raise CommandError("--scale must be 1 or more.")
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo users "
                "share a published password. Add --force if you mean it."
            )
        demo = Demo(scale=scale, stdout=self.stdout)
        for module in app_demos():
            with transaction.atomic():
                module.seed(demo)
        self.stdout.write(
            self.style.SUCCESS("Demo ready: run the server and open /admin/ or /api/.")
        )
