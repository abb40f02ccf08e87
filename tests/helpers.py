"""Assertions every app's tests reuse."""

import functools
import re
from collections.abc import Callable
from urllib.parse import quote

from django.db import connection
from django.test.utils import CaptureQueriesContext


def assert_error(response, status: int, code: str) -> dict:
    """Assert ``response`` is the API's error body for ``status`` and ``code``;
    return the body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"status", "code", "detail", "errors"}
    assert (body["status"], body["code"]) == (status, code)
    assert body["detail"]
    return body


def ok(response, status: int = 200):
    """Assert ``response`` succeeded with ``status``; its body (None if empty)."""
    assert response.status_code == status, response.content
    return response.json() if response.content else None


def error_fields(response, status: int = 400) -> list[tuple[str, str]]:
    """``(field, code)`` of each entry of a 400 (``invalid``) answer's ``errors``."""
    body = assert_error(response, status, "invalid")
    return [(error["field"], error["code"]) for error in body["errors"]]


def sql(statement: str, params=()) -> None:
    """Run raw SQL on the test database, as a client other than Django would."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def get_counting_queries(client, url: str):
    """GET ``url``; return the response and the number of queries it cost."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response, len(queries)


def results(response) -> list:
    """The rows of a list response, paginated or not."""
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def assert_list_queries_constant(
    client,
    url: str,
    add_rows: Callable[[int], object],
    budget: int | None = None,
    *,
    paged: bool = True,
) -> int:
    """Assert that listing ``url`` costs as many queries with 50 rows as with
    1 (and at most ``budget``, when given).

    ``add_rows(n)`` must make ``n`` more rows appear in the list. The list is
    read in pages of 200, the most a page holds (``paged=False``: a list that
    comes whole, and so takes no ``page_size``). Returns the query count.
    """
    if paged:
        url += ("&" if "?" in url else "?") + "page_size=200"
    add_rows(1)
    client.get(url)  # warm up per-process caches (content types, the token)
    one, one_count = get_counting_queries(client, url)
    add_rows(49)
    fifty, fifty_count = get_counting_queries(client, url)
    assert len(results(fifty)) - len(results(one)) == 49
    assert fifty_count == one_count, (
        f"{url} costs {one_count} queries with 1 row and {fifty_count} with 50"
    )
    if budget is not None:
        assert one_count <= budget, f"{url} costs {one_count} queries"
    return one_count


def existing_value(get, path: str, name: str):
    """A value of path parameter ``name`` that names an existing row, or None.

    ``get(url)`` returns the JSON body of a GET, or None when it fails.
    ``/api/badges/badge-definitions/{badge}/`` lists
    ``/api/badges/badge-definitions/`` and takes the first row's ``badge``;
    ``{post_id}`` takes a row's ``post_id``, or its nested ``post``'s ``id``,
    or failing both the row's own ``id``. The value comes percent-encoded.
    """
    collection = path.split("{" + name + "}")[0]
    if "{" in collection:
        return None
    body = get(collection)
    rows = body.get("results", []) if isinstance(body, dict) else body
    if not rows:
        return None
    row = rows[0]
    if name in row:
        return _path_segment(row[name])
    nested = row.get(name.removesuffix("_id"))
    if isinstance(nested, dict) and "id" in nested:
        return _path_segment(nested["id"])
    return _path_segment(row.get("id"))


def _path_segment(value) -> str | None:
    """``value`` percent-encoded for a URL path, as a client must send it
    (member id ``#1`` is ``%231``)."""
    return None if value is None else quote(str(value), safe="")


# --- walks of the OpenAPI schema ------------------------------------------------------

METHODS = ("get", "post", "put", "patch", "delete")


@functools.cache
def schema_paths(prefix: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(path, methods)`` of every operation of the OpenAPI schema under
    ``prefix`` (the schema is the same for every test: built once)."""
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()
    return tuple(
        (path, tuple(method for method in METHODS if method in item))
        for path, item in schema["paths"].items()
        if path.startswith(prefix)
    )


def schema_operations(prefix: str, values: dict) -> list[tuple[str, str, str]]:
    """``(method, path, url)`` of every operation under ``prefix``, each path
    parameter replaced by ``values[name]`` (a missing one fails: a new
    endpoint needs a row in the walk)."""
    found = []
    for path, methods in schema_paths(prefix):
        url = path
        for name in re.findall(r"{(\w+)}", path):
            assert name in values, f"no row for {{{name}}} in {path}: add one"
            url = url.replace("{" + name + "}", str(values[name]))
        found += [(method, path, url) for method in methods]
    return found
