from django.core.management.base import BaseCommand, CommandError

from wellness import matching


class Command(BaseCommand):
    help = (
        "Compute every active user's matches from the feature vectors "
        "(cosine similarity within one version and length) and store each "
        "user's top --top as this run's batch in match_results, replacing "
        "earlier batches. Run it from cron after the vectors are refreshed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--top",
            type=int,
            default=None,
            help="Matches kept per user (default: the WELLNESS_MATCHES setting).",
        )

    def handle(self, *args, top: int | None, **options):
        if top is not None and top < 1:
            raise CommandError("--top must be 1 or more.")
        found = matching.match(top=top)
        self.stdout.write(f"{found} matches stored.")
