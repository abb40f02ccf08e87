"""The platform's hook for who is hidden from whom (config/privacy.py), with
a rule of the test's own and with none: the ORM's statements and hand-written
SQL hide the same users, at no query of their own. The block rule that the
safety app registers is tested through every read in tests/safety/test_blocks.py."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import privacy
from profiles.models import User
from tests.helpers import results
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db


def shown_by_sql(reader) -> set:
    sql, params = privacy.hidden_users_sql(reader)
    with connection.cursor() as cursor:
        statement = f"SELECT id FROM users WHERE id NOT IN ({sql})"  # noqa: S608
        cursor.execute(statement, params)
        return {User._meta.pk.to_python(row[0]) for row in cursor.fetchall()}


def test_a_rule_hides_its_users_everywhere(monkeypatch, api_client, user):
    odd, even = UserFactory(username="odd"), UserFactory(username="even")
    monkeypatch.setattr(
        privacy,
        "_rule",
        lambda reader: (
            User.objects.filter(username="odd").values_list("pk", flat=True),
        ),
    )
    with CaptureQueriesContext(connection) as queries:
        hidden = privacy.hidden("pk", user)
    assert not queries.captured_queries
    assert set(User.objects.exclude(hidden)) == {user, even}
    assert privacy.hidden_users(user) == {odd.pk}
    assert shown_by_sql(user) == {user.pk, even.pk}
    listed = results(api_client.get("/api/profiles/users/"))
    assert {row["username"] for row in listed} == {user.username, "even"}


def test_without_a_rule_nobody_is_hidden(monkeypatch, user):
    other = UserFactory()
    monkeypatch.setattr(privacy, "_rule", lambda reader: ())
    assert set(User.objects.exclude(privacy.hidden("pk", user))) == {user, other}
    assert not User.objects.filter(privacy.hidden("pk", user)).exists()
    assert privacy.hidden_users(user) == set()
    assert shown_by_sql(user) == {user.pk, other.pk}
