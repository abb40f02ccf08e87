from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from community import services


class Command(BaseCommand):
    help = (
        "Sum a day's participation (UTC) into member_daily_highlights, one row "
        "per member: yesterday by default (run it from cron after midnight). "
        "Running it again for a day updates that day's rows; it never adds "
        "duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            dest="day",
            help="The (last) day, YYYY-MM-DD (default: yesterday, UTC).",
        )
        parser.add_argument(
            "--days", type=int, default=1, help="How many days, ending on --date."
        )

    def handle(self, *args, day: str | None, days: int, **options):
        try:
            last = date.fromisoformat(day) if day else None
        except ValueError:
            raise CommandError(f"--date {day!r} is not YYYY-MM-DD.") from None
        last = last or timezone.now().date() - timedelta(days=1)
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        try:
            wanted = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
        except OverflowError:
            raise CommandError("Those days are outside the calendar.") from None
        for one in wanted:
            try:
                members = services.daily_highlights_build(day=one)
            except ValidationError as error:
                raise CommandError(f"{one}: {' '.join(error.messages)}") from None
            self.stdout.write(f"{one}: {members} member(s).")
