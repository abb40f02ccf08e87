"""``createsuperuser`` that refuses an email another user has in any letter case.

Django's command knows only the username is unique; without this, a duplicate
email differing in case reaches the ``lower(email)`` unique index and crashes
with an IntegrityError. Interactive runs ask again; ``--noinput`` runs stop with
a clear error.
"""

import os

from django.contrib.auth.management.commands import createsuperuser
from django.core.management.base import CommandError

EMAIL_TAKEN = (
    "Error: A user with that email address already exists (emails are compared "
    "ignoring letter case)."
)


class Command(createsuperuser.Command):
    def _email_taken(self, email, database) -> bool:
        users = self.UserModel._default_manager.db_manager(database)
        return bool(email) and users.with_email(email).exists()

    def get_input_data(self, field, message, default=None):
        value = super().get_input_data(field, message, default)
        if field.name == "email" and self._email_taken(value, self._database):
            self.stderr.write(EMAIL_TAKEN)
            return None
        return value

    def handle(self, *args, **options):
        self._database = options["database"]
        email = options.get("email")
        if not options["interactive"]:
            email = email or os.environ.get("DJANGO_SUPERUSER_EMAIL")
        if self._email_taken(email, self._database):
            if not options["interactive"]:
                raise CommandError(EMAIL_TAKEN.removeprefix("Error: "))
            self.stderr.write(EMAIL_TAKEN)
            options["email"] = None  # ask for another one
        return super().handle(*args, **options)
