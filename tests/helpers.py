"""Assertions later apps reuse."""

from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def get_counting_queries(client, url: str):
    """GET ``url``; return the response and the number of queries it cost."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response, len(queries)


def assert_list_queries_constant(
    client, url: str, add_rows: Callable[[int], object]
) -> int:
    """Assert that listing ``url`` costs as many queries with 20 rows as with 1.

    ``add_rows(n)`` must make ``n`` more rows appear in the list. Returns the
    query count, for tests that also want to pin it.
    """
    add_rows(1)
    client.get(url)  # warm up per-process caches (content types, ...)
    one, one_count = get_counting_queries(client, url)
    add_rows(19)
    twenty, twenty_count = get_counting_queries(client, url)
    assert twenty.json()["count"] - one.json()["count"] == 19
    assert len(twenty.json()["results"]) - len(one.json()["results"]) == 19
    assert twenty_count == one_count, (
        f"{url} costs {one_count} queries with 1 row and {twenty_count} with 20"
    )
    return one_count
