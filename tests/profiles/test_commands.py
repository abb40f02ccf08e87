"""Management commands of profiles: createsuperuser with case-insensitive
unique emails."""

import io

import pytest
from django.core.management import CommandError, call_command

from profiles.models import User
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_createsuperuser_noinput_refuses_a_duplicate_email_clearly():
    UserFactory(email="Ada@Example.com")
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "createsuperuser",
            interactive=False,
            username="root",
            email="ada@example.com",
            stdout=io.StringIO(),
        )
    assert not User.objects.filter(username="root").exists()


def test_createsuperuser_noinput_reads_the_email_from_the_environment(monkeypatch):
    UserFactory(email="Ada@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "ADA@example.com")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createsuperuser", interactive=False, username="root")


def test_createsuperuser_noinput_creates_a_superuser():
    call_command(
        "createsuperuser",
        interactive=False,
        username="root",
        email="root@example.com",
        stdout=io.StringIO(),
    )
    assert User.objects.get(username="root").is_superuser


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_createsuperuser_asks_again_for_a_taken_email(monkeypatch):
    UserFactory(email="Ada@Example.com")
    answers = iter(["root", "ADA@EXAMPLE.COM", "root@example.com"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a long pass phrase 42")
    stderr = io.StringIO()
    call_command(
        "createsuperuser", stdin=FakeTTY(), stdout=io.StringIO(), stderr=stderr
    )
    assert "already exists" in stderr.getvalue()
    assert User.objects.get(username="root").email == "root@example.com"
