from django.core.management.base import BaseCommand, CommandError

from config.accounts import service_account


class Command(BaseCommand):
    help = (
        "Create (or update) a service account: a user without a password that "
        "holds every permission of the given apps, through one group per app "
        "('community service', ...). Prints its API token."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("apps", nargs="+", help="App labels, e.g. community.")

    def handle(self, *args, username, apps, **options):
        try:
            token = service_account(username, apps)
        except LookupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(token.key)
