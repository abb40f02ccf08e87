"""Cursor pagination: every row once, in a total order, forwards and back, with
rows arriving meanwhile; cursors that are not the list's are a 400."""

import base64

import orjson
import pytest

from profiles.models import Post, User
from tests.helpers import assert_error
from tests.profiles.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def walk(client, url: str, direction: str = "next") -> list[list]:
    """The ids of every page from ``url``, following ``direction`` links (a
    list that never ends fails, rather than loops)."""
    pages = []
    while url:
        assert len(pages) < 50, f"still paging after {pages}"
        body = client.get(url).json()
        pages.append([row["id"] for row in body["results"]])
        url = body[direction]
    return pages


@pytest.fixture
def posts(user):
    """Seven posts, three of them at the same instant (ties on created_at)."""
    made = PostFactory.create_batch(7, author=user)
    Post.objects.filter(pk__in=[p.pk for p in made[2:5]]).update(
        created_at=made[2].created_at
    )
    return Post.objects.order_by("-created_at", "-id").values_list("pk", flat=True)


@pytest.mark.parametrize("ordering", ["-created_at", "created_at", "-id", "id"])
def test_pages_hold_every_row_once_in_order(api_client, posts, ordering):
    order = Post.objects.order_by(ordering, "id" if "-" not in ordering else "-id")
    expected = list(order.values_list("pk", flat=True))
    pages = walk(api_client, f"/api/profiles/posts/?ordering={ordering}&page_size=3")
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [pk for page in pages for pk in page] == expected


def test_previous_links_walk_back_over_the_same_pages(api_client, posts):
    forward = walk(api_client, "/api/profiles/posts/?page_size=3")
    last = api_client.get("/api/profiles/posts/?page_size=3").json()
    while last["next"]:
        last = api_client.get(last["next"]).json()
    backward = walk(api_client, last["previous"], direction="previous")
    assert backward == forward[-2::-1]


def test_a_first_page_has_no_previous_and_a_last_no_next(api_client, posts):
    body = api_client.get("/api/profiles/posts/?page_size=100").json()
    assert body["previous"] is None and body["next"] is None
    assert set(body) == {"next", "previous", "results"}  # no count: no COUNT(*)


def test_rows_arriving_meanwhile_neither_repeat_nor_shift_pages(api_client, user):
    PostFactory.create_batch(4, author=user)
    first = api_client.get("/api/profiles/posts/?page_size=2").json()
    PostFactory.create_batch(3, author=user)  # newer: before the first page
    second = api_client.get(first["next"]).json()
    seen = [p["id"] for p in first["results"] + second["results"]]
    oldest_four = Post.objects.order_by("-created_at", "-id")[3:7]
    assert seen == [p.pk for p in oldest_four]


def test_users_page_by_username(api_client):
    for name in ["carol", "alice", "bob", "dave", "erin"]:
        UserFactory(username=name)
    pages = walk(api_client, "/api/profiles/users/?page_size=2")
    names = {str(pk): name for pk, name in User.objects.values_list("pk", "username")}
    usernames = [names[pk] for page in pages for pk in page]
    assert usernames == sorted(names.values())


def cursor(fields: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(fields)).decode()


@pytest.mark.parametrize(
    "value",
    [
        "nonsense",
        "%%%",
        cursor({"p": [1], "r": 0}),  # no ordering
        cursor({"p": [[1]], "r": 0, "o": ["-created_at", "-id"]}),  # not a value
        cursor({"p": [{"t": "yesterday"}, 1], "r": 0, "o": ["-created_at", "-id"]}),
        cursor({"p": [True, 1], "r": 0, "o": ["-created_at", "-id"]}),
    ],
)
def test_a_cursor_the_list_did_not_give_is_a_400(api_client, posts, value):
    body = assert_error(
        api_client.get(f"/api/profiles/posts/?cursor={value}"), 400, "invalid"
    )
    assert body["errors"][0]["field"] == "cursor"


def test_a_cursor_of_another_ordering_is_a_400_saying_so(api_client, posts):
    first = api_client.get("/api/profiles/posts/?page_size=2&ordering=id").json()
    reordered = first["next"].replace("ordering=id", "ordering=-id")
    body = assert_error(api_client.get(reordered), 400, "invalid")
    assert "another ordering" in body["errors"][0]["message"]


@pytest.mark.parametrize("size, expected", [("0", 1), ("-5", 1), ("x", 7), ("500", 7)])
def test_page_size_is_bounded(api_client, posts, size, expected):
    body = api_client.get(f"/api/profiles/posts/?page_size={size}").json()
    assert len(body["results"]) == expected
