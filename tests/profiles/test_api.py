"""The profiles API: users, me, highlights, the lightning tab, posts,
reactions, profiles and stats."""

import json

import pytest
from django.db import connection
from django.db.models import Prefetch

from badges.models import BadgeDefinition, BadgeGrant
from config.api.renderers import JSONRenderer
from profiles import services
from profiles.api.serializers import (
    HighlightSerializer,
    MeSerializer,
    PostSerializer,
    PublicUserSerializer,
    ReactedPostSerializer,
    StatsSerializer,
)
from profiles.models import MAX_HIGHLIGHTS, Post, Reaction, User, UserHighlight
from profiles.stats import stats_get
from tests.badges.factories import BadgeDefinitionFactory, BadgeGrantFactory
from tests.conftest import token_client
from tests.helpers import assert_error, assert_list_queries_constant
from tests.profiles.factories import (
    PostFactory,
    ReactionFactory,
    UserFactory,
    UserProfileFactory,
)
from tests.profiles.helpers import ACCEPTED, REJECTED

pytestmark = pytest.mark.django_db


# --- users --------------------------------------------------------------------------


def test_users_show_public_fields_and_tag_badges_only(api_client, user):
    UserProfileFactory(user=user, display_name="Ada", journaling_frequency=3)
    BadgeGrantFactory(
        user=user, definition=BadgeDefinition.objects.get(badge="moderator")
    )
    BadgeGrantFactory(
        user=user, definition=BadgeDefinition.objects.get(badge="top-contributor")
    )
    body = api_client.get(f"/api/profiles/users/{user.pk}/").json()
    assert set(body) == {"id", "username", "tagline", "profile", "tag_badges"}
    assert "email" not in str(body)
    assert "journaling_frequency" not in body["profile"]
    assert body["profile"]["display_name"] == "Ada"
    assert body["tag_badges"] == [
        {
            "badge": "moderator",
            "label": "Moderator",
            "icon_url_16": "/public/badges/moderator_16.png",
        }
    ]


def test_inactive_users_are_hidden(api_client):
    gone = UserFactory(is_active=False)
    assert api_client.get(f"/api/profiles/users/{gone.pk}/").status_code == 404
    usernames = [
        u["username"] for u in api_client.get("/api/profiles/users/").json()["results"]
    ]
    assert gone.username not in usernames


def test_users_filter_by_username_prefix(api_client):
    UserFactory(username="alice")
    UserFactory(username="alina")
    UserFactory(username="bob")
    body = api_client.get("/api/profiles/users/?username__startswith=ali").json()
    assert [u["username"] for u in body["results"]] == ["alice", "alina"]


def test_user_list_queries_do_not_grow(api_client):
    definition = BadgeDefinitionFactory()

    def add_users(n):
        for user in UserFactory.create_batch(n):
            UserProfileFactory(user=user)
            BadgeGrantFactory(user=user, definition=definition)

    assert_list_queries_constant(api_client, "/api/profiles/users/", add_users)


def test_anonymous_requests_get_401(anon_client):
    response = anon_client.get("/api/profiles/users/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


# --- me -----------------------------------------------------------------------------


def test_me_shows_own_email_and_profile(api_client, user):
    body = api_client.get("/api/profiles/me/").json()
    assert body["email"] == user.email
    assert body["profile"] is None


def test_me_patch_sets_tagline_and_creates_profile(api_client, user):
    response = api_client.patch(
        "/api/profiles/me/",
        {"tagline": "  Hello 🌍  ", "profile": {"display_name": "Ada", "bio": "Hi"}},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["tagline"] == "Hello 🌍"
    assert response.json()["profile"]["display_name"] == "Ada"
    assert response.json()["profile"]["theme_color"] == "#7A5AF8"
    user.refresh_from_db()
    assert user.tagline == "Hello 🌍"
    assert user.profile.bio == "Hi"


def test_me_patch_updates_only_given_profile_fields(api_client, user):
    UserProfileFactory(user=user, display_name="Ada", bio="Keep me")
    api_client.patch("/api/profiles/me/", {"profile": {"location": "Lisbon"}})
    user.profile.refresh_from_db()
    assert (user.profile.display_name, user.profile.bio, user.profile.location) == (
        "Ada",
        "Keep me",
        "Lisbon",
    )


@pytest.mark.parametrize("blank", ["", "   ", "\n\t "])
def test_me_patch_blank_tagline_clears_it(api_client, user, blank):
    """Whitespace alone is no tagline: once a 500, when the length validator
    met the None it had become."""
    api_client.patch("/api/profiles/me/", {"tagline": "Something"})
    response = api_client.patch("/api/profiles/me/", {"tagline": blank})
    assert response.status_code == 200, response.content
    assert response.json()["tagline"] is None
    user.refresh_from_db()
    assert user.tagline is None


def test_me_patch_profile_null_deletes_the_profile(api_client, user):
    UserProfileFactory(user=user, bio="Bye")
    response = api_client.patch("/api/profiles/me/", {"profile": None})
    assert response.status_code == 200
    assert response.json()["profile"] is None
    user.refresh_from_db()
    assert not hasattr(user, "profile")
    again = api_client.patch("/api/profiles/me/", {"profile": {"bio": "Back"}})
    assert again.json()["profile"]["bio"] == "Back"


@pytest.mark.parametrize(
    "profile, field",
    [
        ({"journaling_frequency": -1}, "profile.journaling_frequency"),
        ({"theme_color": "red"}, "profile.theme_color"),
        ({"avatar_url": "javascript:alert(1)"}, "profile.avatar_url"),
        ({"profile_music_provider": "napster"}, "profile.profile_music_provider"),
        ({"display_name": "x" * 81}, "profile.display_name"),
        ({"location": "\x00"}, "profile.location"),
    ],
)
def test_me_patch_rejects_bad_profile_values(api_client, user, profile, field):
    response = api_client.patch(
        "/api/profiles/me/", {"tagline": "kept?", "profile": profile}
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    user.refresh_from_db()
    assert user.tagline is None  # nothing half-written
    assert not hasattr(user, "profile") or user.profile is None


def test_me_cannot_change_email_or_username(api_client, user):
    response = api_client.patch(
        "/api/profiles/me/", {"email": "new@example.com", "username": "x"}
    )
    body = assert_error(response, 400, "invalid")
    assert {e["field"]: e["code"] for e in body["errors"]} == {
        "email": "read_only",
        "username": "read_only",
    }
    user.refresh_from_db()
    assert user.email.endswith("@example.com") and user.username != "x"


@pytest.mark.django_db
@pytest.mark.parametrize("value, stored", [v for v in ACCEPTED if v[1]])
def test_accepted_through_the_api_and_stored_as_postgresql_counts(
    api_client, user, value, stored
):
    response = api_client.patch("/api/profiles/me/", {"tagline": value})
    assert response.status_code == 200, response.json()
    assert response.json()["tagline"] == stored
    user.refresh_from_db()
    assert user.tagline == stored
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT char_length(tagline) FROM users WHERE id = %s", [user.pk]
            )
            assert cursor.fetchone()[0] == len(stored) <= 48


@pytest.mark.django_db
@pytest.mark.parametrize("value, code", REJECTED)
def test_rejected_through_the_api_with_a_400(api_client, user, value, code):
    # json.dumps escapes a lone surrogate as \\ud800, as any JSON client would.
    response = api_client.patch(
        "/api/profiles/me/",
        json.dumps({"tagline": value}),
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("tagline", code)
    assert error["message"].startswith("Tagline ")
    user.refresh_from_db()
    assert user.tagline is None


# --- highlights ---------------------------------------------------------------------


def test_add_highlight_appends(api_client, user):
    first, second = PostFactory.create_batch(2)
    assert (
        api_client.post("/api/profiles/me/highlights/", {"post_id": first.pk}).json()[
            "position"
        ]
        == 0
    )
    response = api_client.post("/api/profiles/me/highlights/", {"post_id": second.pk})
    assert response.status_code == 201
    assert response.json()["position"] == 1
    assert response.json()["post"]["id"] == second.pk


def test_add_highlight_twice_is_a_400(api_client):
    post = PostFactory()
    api_client.post("/api/profiles/me/highlights/", {"post_id": post.pk})
    response = api_client.post("/api/profiles/me/highlights/", {"post_id": post.pk})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "highlight_exists"


def test_add_highlight_of_unknown_post_is_a_400(api_client):
    response = api_client.post("/api/profiles/me/highlights/", {"post_id": 987654321})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "post_id"


def test_129th_highlight_gets_a_clear_400(api_client, user):
    UserHighlight.objects.bulk_create(
        UserHighlight(user=user, post=post, position=i)
        for i, post in enumerate(PostFactory.create_batch(MAX_HIGHLIGHTS))
    )
    response = api_client.post(
        "/api/profiles/me/highlights/", {"post_id": PostFactory().pk}
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "highlight_limit"
    assert "128" in error["message"]


def test_remove_highlight(api_client, user):
    posts = PostFactory.create_batch(3)
    for post in posts:
        services.highlight_add(user=user, post=post)
    response = api_client.delete(f"/api/profiles/me/highlights/{posts[0].pk}/")
    assert response.status_code == 204
    body = api_client.get(f"/api/profiles/users/{user.pk}/highlights/").json()
    assert [(h["position"], h["post"]["id"]) for h in body] == [
        (0, posts[1].pk),
        (1, posts[2].pk),
    ]


def test_remove_highlight_not_there_is_a_404(api_client):
    response = api_client.delete(f"/api/profiles/me/highlights/{PostFactory().pk}/")
    assert response.status_code == 404
    assert response.json()["detail"] == "This post is not in your highlights."


def test_remove_cannot_touch_another_users_highlight(api_client, other_user):
    post = PostFactory()
    services.highlight_add(user=other_user, post=post)
    assert (
        api_client.delete(f"/api/profiles/me/highlights/{post.pk}/").status_code == 404
    )
    assert UserHighlight.objects.filter(user=other_user).count() == 1


def test_reorder_highlights(api_client, user):
    posts = PostFactory.create_batch(3)
    for post in posts:
        services.highlight_add(user=user, post=post)
    new_order = [posts[2].pk, posts[0].pk, posts[1].pk]
    response = api_client.put(
        "/api/profiles/me/highlights/order/", {"post_ids": new_order}
    )
    assert response.status_code == 200
    assert [h["post"]["id"] for h in response.json()] == new_order
    assert [h["position"] for h in response.json()] == [0, 1, 2]


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"post_ids": [1, 1]}, "not_a_permutation"),
        ({"post_ids": "1,2"}, "invalid_type"),
        ({}, "required"),
        ({"post_ids": [None]}, "null"),
        ({"post_ids": [0]}, "min_value"),
        ({"post_ids": [2**63]}, "max_value"),  # the first id beyond bigint
        ({"post_ids": [2**63 - 1]}, "not_a_permutation"),  # the last one within
        ({"post_ids": list(range(1, MAX_HIGHLIGHTS + 2))}, "max_length"),
    ],
)
def test_reorder_bad_input_is_a_400(api_client, user, payload, code):
    services.highlight_add(user=user, post=PostFactory())
    response = api_client.put("/api/profiles/me/highlights/order/", payload)
    body = assert_error(response, 400, "invalid")
    assert body["errors"][0]["field"].startswith("post_ids")
    assert body["errors"][0]["code"] == code


def test_user_highlights_of_unknown_user_is_a_404(api_client):
    response = api_client.get(
        "/api/profiles/users/00000000-0000-4000-8000-000000000000/highlights/"
    )
    assert response.status_code == 404


def test_highlight_list_queries_do_not_grow(api_client, user):
    def add(n):
        for post in PostFactory.create_batch(n):
            services.highlight_add(user=user, post=post)

    assert_list_queries_constant(
        api_client, f"/api/profiles/users/{user.pk}/highlights/", add, paged=False
    )


# --- lightning tab ------------------------------------------------------------------


def test_reacted_posts_newest_reaction_first_and_once_each(api_client, user):
    old, middle, new = PostFactory.create_batch(3)
    ReactionFactory(user=user, post=old, kind="like")
    ReactionFactory(user=user, post=middle, kind="like")
    ReactionFactory(user=user, post=new, kind="like")
    ReactionFactory(user=user, post=old, kind="love")  # old is now the newest
    ReactionFactory(post=middle)  # someone else's reaction does not count
    body = api_client.get(f"/api/profiles/users/{user.pk}/reacted-posts/").json()
    assert [p["id"] for p in body["results"]] == [old.pk, new.pk, middle.pk]
    assert body["next"] is None and body["previous"] is None


def test_reacted_posts_come_from_the_last_reactions_only(user):
    posts = PostFactory.create_batch(5)
    for post in posts:
        ReactionFactory(user=user, post=post)
    rows = Reaction.objects.reacted_posts(user.pk, reader=user, window=3)
    assert [row["id"] for row in rows] == [p.pk for p in posts[:1:-1]]


def test_reacted_posts_are_paginated_by_cursor(api_client, user):
    posts = PostFactory.create_batch(5)
    for post in posts:
        ReactionFactory(user=user, post=post)
    url = f"/api/profiles/users/{user.pk}/reacted-posts/?page_size=2"
    first = api_client.get(url).json()
    second = api_client.get(first["next"]).json()
    third = api_client.get(second["next"]).json()
    newest_first = [p.pk for p in reversed(posts)]
    pages = [[p["id"] for p in page["results"]] for page in (first, second, third)]
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert third["next"] is None and first["previous"] is None
    back = api_client.get(third["previous"]).json()
    assert [p["id"] for p in back["results"]] == newest_first[2:4]


def test_reacted_posts_queries_do_not_grow(api_client, user):
    def add(n):
        for post in PostFactory.create_batch(n):
            ReactionFactory(user=user, post=post)

    assert_list_queries_constant(
        api_client, f"/api/profiles/users/{user.pk}/reacted-posts/", add
    )


# --- posts and reactions ------------------------------------------------------------


def test_create_post_is_authored_by_caller(api_client, user):
    response = api_client.post("/api/profiles/posts/", {"body": "Hello"})
    assert response.status_code == 201
    assert response.json()["author"]["id"] == str(user.pk)


def test_only_the_author_edits_or_deletes_a_post(api_client, other_user):
    post = PostFactory(author=other_user)
    assert (
        api_client.patch(f"/api/profiles/posts/{post.pk}/", {"body": "x"}).status_code
        == 403
    )
    assert api_client.delete(f"/api/profiles/posts/{post.pk}/").status_code == 403
    assert (
        token_client(other_user).delete(f"/api/profiles/posts/{post.pk}/").status_code
        == 204
    )


def test_post_list_queries_do_not_grow(api_client):
    assert_list_queries_constant(
        api_client, "/api/profiles/posts/", lambda n: PostFactory.create_batch(n)
    )


def test_react_once_per_kind(api_client, user):
    post = PostFactory()
    first = api_client.post(
        "/api/profiles/reactions/", {"post_id": post.pk, "kind": "like"}
    )
    assert first.status_code == 201
    assert first.json()["user_id"] == str(user.pk)
    again = api_client.post(
        "/api/profiles/reactions/", {"post_id": post.pk, "kind": "like"}
    )
    assert again.status_code == 400
    other = api_client.post(
        "/api/profiles/reactions/", {"post_id": post.pk, "kind": "love"}
    )
    assert other.status_code == 201


def test_reaction_kind_must_be_known(api_client):
    response = api_client.post(
        "/api/profiles/reactions/", {"post_id": PostFactory().pk, "kind": "meh"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "kind"


def test_only_the_reactor_removes_a_reaction(api_client, other_user):
    reaction = ReactionFactory(user=other_user)
    assert (
        api_client.delete(f"/api/profiles/reactions/{reaction.pk}/").status_code == 403
    )
    assert (
        token_client(other_user)
        .delete(f"/api/profiles/reactions/{reaction.pk}/")
        .status_code
        == 204
    )


def test_reaction_list_filters_by_user(api_client, user):
    ReactionFactory(user=user)
    ReactionFactory()
    body = api_client.get(f"/api/profiles/reactions/?user_id={user.pk}").json()
    assert [r["user_id"] for r in body["results"]] == [str(user.pk)]


def test_reaction_list_queries_do_not_grow(api_client):
    assert_list_queries_constant(
        api_client,
        "/api/profiles/reactions/",
        lambda n: ReactionFactory.create_batch(n),
    )


def test_two_identical_reactions_at_once_one_wins_the_other_is_a_409(in_parallel):
    """Both pass the service's check; the database's unique constraint picks
    the winner, and the loser's request answers 409, not 500."""
    user, post = UserFactory(), PostFactory()
    client = token_client(user)
    results, errors = in_parallel(
        lambda: services.reaction_add(user=user, post=post, kind="like"),
        lambda: client.post(
            "/api/profiles/reactions/", {"post_id": post.pk, "kind": "like"}
        ),
    )
    assert errors == {}
    body = assert_error(results["second"], 409, "conflict")
    assert body["detail"] == "You already reacted to this post that way."
    assert Reaction.objects.filter(user=user, post=post).count() == 1


# --- user profiles, stats, the stats cache table ------------------------------------


def test_user_profiles_list_is_public_fields(api_client):
    UserProfileFactory(display_name="Ada", journaling_frequency=2)
    body = api_client.get("/api/profiles/user-profiles/").json()
    assert body["results"][0]["display_name"] == "Ada"
    assert "journaling_frequency" not in body["results"][0]


def test_user_profiles_queries_do_not_grow(api_client):
    assert_list_queries_constant(
        api_client,
        "/api/profiles/user-profiles/",
        lambda n: UserProfileFactory.create_batch(n),
    )


def test_a_profile_is_found_by_its_users_id(api_client):
    profile = UserProfileFactory(display_name="Ada")
    response = api_client.get(f"/api/profiles/user-profiles/{profile.user_id}/")
    assert response.json()["user_id"] == str(profile.user_id)


def test_stats_of_unknown_user_is_a_404(api_client):
    url = "/api/profiles/users/00000000-0000-4000-8000-000000000000/stats/"
    assert api_client.get(url).status_code == 404


def test_stats_cache_table_is_staff_only(api_client, staff_client):
    assert api_client.get("/api/profiles/user-stats-cache/").status_code == 403
    assert staff_client.get("/api/profiles/user-stats-cache/").status_code == 200


# --- the lean read path returns exactly the documented bodies -----------------------


def drf(data) -> object:
    """``data`` as the API's renderer writes it, read back."""
    return json.loads(JSONRenderer().render(data))


def with_tag_badges(users):
    """What ``PublicUserSerializer`` and ``MeSerializer`` read."""
    grants = BadgeGrant.objects.tag_badges()
    return users.select_related("profile").prefetch_related(
        Prefetch("badge_grants", queryset=grants, to_attr="tag_badge_grants")
    )


@pytest.fixture
def rich_rows(user, other_user):
    """Users with and without profiles and tag badges, posts, reactions and
    highlights, with microseconds and without."""
    UserProfileFactory(user=user, bio="Hi 👋", location="Lisbon")
    for badge in ("moderator", "early-adopter", "top-contributor"):
        BadgeGrantFactory(
            user=user, definition=BadgeDefinition.objects.get(badge=badge)
        )
    posts = PostFactory.create_batch(3, author=other_user)
    Post.objects.filter(pk=posts[0].pk).update(
        created_at=posts[0].created_at.replace(microsecond=0)
    )
    for post in posts:
        ReactionFactory(user=user, post=post)
        services.highlight_add(user=user, post=post)
    return user


def test_lean_bodies_equal_the_serializers(api_client, rich_rows, other_user):
    user = rich_rows
    users = with_tag_badges(User.objects.filter(is_active=True)).order_by("username")
    assert api_client.get("/api/profiles/users/").json()["results"] == drf(
        PublicUserSerializer(users, many=True).data
    )
    assert api_client.get(f"/api/profiles/users/{user.pk}/").json() == drf(
        PublicUserSerializer(users.get(pk=user.pk)).data
    )
    assert api_client.get("/api/profiles/me/").json() == drf(
        MeSerializer(users.get(pk=user.pk)).data
    )
    posts = Post.objects.select_related("author").order_by("-created_at", "-id")
    by_author = posts.filter(author=other_user)
    url = f"/api/profiles/posts/?author_id={other_user.pk}"
    assert api_client.get(url).json()["results"] == drf(
        PostSerializer(by_author, many=True).data
    )
    highlights = user.highlights.select_related("post__author").order_by("position")
    expected = drf(HighlightSerializer(highlights, many=True).data)
    assert (
        api_client.get(f"/api/profiles/users/{user.pk}/highlights/").json() == expected
    )
    assert api_client.get("/api/profiles/me/highlights/").json() == expected
    reacted = []
    for reaction in user.reactions.select_related("post__author").order_by("-id"):
        reaction.post.reacted_at = reaction.created_at
        reacted.append(reaction.post)
    url = f"/api/profiles/users/{user.pk}/reacted-posts/"
    assert api_client.get(url).json()["results"] == drf(
        ReactedPostSerializer(reacted, many=True).data
    )
    url = f"/api/profiles/users/{user.pk}/stats/"
    assert api_client.get(url).json() == drf(StatsSerializer(stats_get(user.pk)).data)
