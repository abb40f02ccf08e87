"""Query budgets of every read, from the OpenAPI schema (docs/api-conventions.md).

A read costs at most two queries: the token, when the cache does not have it,
and the page. A list costs the same with 1 row of every table as with 50 (all
on one page). Endpoints added later are covered with no change here; an
endpoint that needs more names its budget and reason in ``BUDGETS``.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from config.api.authentication import forget_token
from tests.conftest import rows_in_every_table
from tests.helpers import existing_value
from tests.profiles.factories import UserFactory

pytestmark = pytest.mark.django_db

DEFAULT_BUDGET = 2
BUDGETS = {
    # Page numbers count the rows: a small, bounded list.
    "/api/badges/badge-definitions/": 3,
}
NOT_READS = {"/api/schema/", "/api/docs/"}
# Lists of the caller's own rows: the 49 other users' rows added below do not
# show there, so each app's tests check them with the owner's rows
# (tests/chatbot/test_api.py).
OWN_ROWS_ONLY = {
    "/api/chatbot/tasks/",
    "/api/chatbot/conversations/",
    "/api/wellness/user-tags/{user_id}/",
    "/api/wellness/habits/",
    "/api/wellness/gardens/",
    "/api/wellness/user-features/",
    "/api/wellness/match-results/",
    "/api/safety/blocks/",
    "/api/safety/locations/",
    "/api/safety/private-messages/",
}


def reads(schema: dict) -> list[str]:
    return [
        path
        for path, item in schema["paths"].items()
        if "get" in item and path not in NOT_READS
    ]


def url_for(client, path: str) -> str:
    def get(url):
        response = client.get(url)
        return response.json() if response.status_code == 200 else None

    for name in re.findall(r"{(\w+)}", path):
        value = existing_value(get, path, name)
        assert value is not None, f"no row for {{{name}}} in {path}"
        path = path.replace("{" + name + "}", str(value))
    return path


def cold_queries(client, token, url: str):
    """GET ``url`` with the token out of the cache; the response and the
    number of queries."""
    client.get(url)  # warm what stays warm: stats in Redis, content types
    forget_token(Token, token)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content)
    return response, len(queries)


def whole(schema: dict, path: str) -> str:
    """The list at ``path`` in pages as large as they come (``page_size``
    where it pages: an unpaged list takes no such parameter)."""
    query = schema["paths"][path]["get"].get("parameters", [])
    pages = any(parameter["name"] == "page_size" for parameter in query)
    return f"{path}?page_size=200" if pages else path


@pytest.fixture
def schema(anon_client):
    return anon_client.get("/api/schema/?format=json").json()


@pytest.fixture
def token(staff_user):
    return Token.objects.get_or_create(user=staff_user)[0]


def test_every_read_is_within_its_budget(staff_client, token, every_table, schema):
    for path in reads(schema):
        url = url_for(staff_client, path)
        _, count = cold_queries(staff_client, token, url)
        budget = BUDGETS.get(path, DEFAULT_BUDGET)
        assert count <= budget, f"{path} costs {count} queries (budget {budget})"


def test_every_list_costs_the_same_for_1_and_50_rows(
    staff_client, token, staff_user, schema
):
    rows_in_every_table(staff_user)
    lists = {path: whole(schema, path) for path in reads(schema) if "{" not in path}
    one = {}
    for path, url in lists.items():
        _, one[path] = cold_queries(staff_client, token, url)
    for _ in range(49):
        rows_in_every_table(UserFactory())
    for path, url in lists.items():
        response, fifty = cold_queries(staff_client, token, url)
        body = response.json()
        if isinstance(body, dict) and "results" in body:
            assert len(body["results"]) >= 50 or path in {*BUDGETS, *OWN_ROWS_ONLY}
        assert fifty == one[path], f"{path}: {one[path]} queries, then {fifty}"


def test_a_known_token_costs_no_query(staff_client, token):
    staff_client.get("/api/profiles/me/")
    with CaptureQueriesContext(connection) as queries:
        staff_client.get("/api/profiles/me/")
    assert len(queries) == 1  # the page; the token came from the cache
