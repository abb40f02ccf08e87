"""The one user table: UUID keys, case-insensitive unique email, createsuperuser."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from profiles.models import User
from tests.profiles.factories import UserFactory
from tests.profiles.helpers import admin_user_form

pytestmark = pytest.mark.django_db


def test_ids_are_uuids_generated_by_the_database_too():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO users (password, is_superuser, username, first_name, "
            "last_name, is_staff, is_active, email) "
            "VALUES ('', false, 'raw', '', '', false, true, 'raw@example.com')"
        )
    user = User.objects.get(username="raw")
    assert isinstance(user.pk, uuid.UUID)
    assert user.created_at is not None


def test_email_is_unique_ignoring_case_in_the_database():
    UserFactory(email="Ada@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="other", email="ada@example.COM")


def test_with_email_finds_any_case():
    user = UserFactory(email="Ada@Example.com")
    assert list(User.objects.with_email("ADA@example.com")) == [user]


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


def test_admin_add_form_shows_a_duplicate_email_as_a_form_error(client, staff_user):
    UserFactory(email="Ada@Example.com")
    client.force_login(staff_user)
    response = client.post(
        "/admin/profiles/user/add/",
        {
            "username": "newcomer",
            "email": "ADA@example.com",
            "usable_password": "false",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "already exists" in str(errors)
    assert not User.objects.filter(username="newcomer").exists()


def test_admin_change_form_shows_a_duplicate_email_as_a_form_error(
    client, staff_user, user
):
    UserFactory(email="taken@example.com")
    client.force_login(staff_user)
    response = client.post(
        f"/admin/profiles/user/{user.pk}/change/",
        admin_user_form(user, email="TAKEN@example.com"),
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
