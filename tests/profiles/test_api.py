"""The profiles API: users, me, highlights, the lightning tab, posts, reactions."""

import pytest

from badges.models import BadgeDefinition
from profiles import services
from profiles.models import MAX_HIGHLIGHTS, Post, Reaction, UserHighlight
from tests.badges.factories import BadgeDefinitionFactory, BadgeGrantFactory
from tests.conftest import token_client
from tests.helpers import assert_list_queries_constant
from tests.profiles.factories import (
    PostFactory,
    ReactionFactory,
    UserFactory,
    UserProfileFactory,
)

pytestmark = pytest.mark.django_db


# --- users --------------------------------------------------------------------


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


# --- me -----------------------------------------------------------------------


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


def test_me_patch_empty_tagline_clears_it(api_client, user):
    api_client.patch("/api/profiles/me/", {"tagline": "Something"})
    response = api_client.patch("/api/profiles/me/", {"tagline": ""})
    assert response.json()["tagline"] is None
    user.refresh_from_db()
    assert user.tagline is None


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
    api_client.patch("/api/profiles/me/", {"email": "new@example.com", "username": "x"})
    user.refresh_from_db()
    assert user.email.endswith("@example.com") and user.username != "x"


# --- highlights ---------------------------------------------------------------


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
    assert [(h["position"], h["post"]["id"]) for h in body["results"]] == [
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
    "payload",
    [
        {"post_ids": [1, 1]},
        {"post_ids": "1,2"},
        {},
        {"post_ids": [2**70]},
        {"post_ids": [None]},
    ],
)
def test_reorder_bad_input_is_a_400(api_client, user, payload):
    services.highlight_add(user=user, post=PostFactory())
    response = api_client.put("/api/profiles/me/highlights/order/", payload)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("post_ids")


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
        api_client, f"/api/profiles/users/{user.pk}/highlights/", add
    )


# --- lightning tab ------------------------------------------------------------


def test_reacted_posts_newest_reaction_first_and_once_each(api_client, user):
    old, middle, new = PostFactory.create_batch(3)
    ReactionFactory(user=user, post=old, kind="like")
    ReactionFactory(user=user, post=middle, kind="like")
    ReactionFactory(user=user, post=new, kind="like")
    ReactionFactory(user=user, post=old, kind="love")  # old is now the newest
    ReactionFactory(post=middle)  # someone else's reaction does not count
    body = api_client.get(f"/api/profiles/users/{user.pk}/reacted-posts/").json()
    assert [p["id"] for p in body["results"]] == [old.pk, new.pk, middle.pk]
    assert body["count"] == 3


def test_reacted_posts_come_from_the_last_reactions_only(user):
    posts = PostFactory.create_batch(5)
    for post in posts:
        ReactionFactory(user=user, post=post)
    assert list(Post.objects.reacted_by(user.pk, window=3)) == posts[:1:-1]


def test_reacted_posts_are_paginated(api_client, user):
    for post in PostFactory.create_batch(3):
        ReactionFactory(user=user, post=post)
    body = api_client.get(
        f"/api/profiles/users/{user.pk}/reacted-posts/?page_size=2&page=2"
    ).json()
    assert body["count"] == 3 and len(body["results"]) == 1


def test_reacted_posts_queries_do_not_grow(api_client, user):
    def add(n):
        for post in PostFactory.create_batch(n):
            ReactionFactory(user=user, post=post)

    assert_list_queries_constant(
        api_client, f"/api/profiles/users/{user.pk}/reacted-posts/", add
    )


def test_reacted_posts_query_uses_the_seed_index(user):
    """On PostgreSQL the window of reactions is read through
    ix_reactions_user_created (with enough rows that a plan without it would
    be chosen if the index did not fit)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN output is PostgreSQL's")
    others = UserFactory.create_batch(20)
    posts = PostFactory.create_batch(50)
    Reaction.objects.bulk_create(
        Reaction(user=someone, post=post, kind=kind)
        for someone in [user, *others]
        for post in posts
        for kind in ("like", "love", "wow")
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reactions")
    plan = Post.objects.reacted_by(user.pk).explain()
    assert "ix_reactions_user_created" in plan, plan


# --- posts and reactions ------------------------------------------------------


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
        "/api/profiles/reactions/", {"post": post.pk, "kind": "like"}
    )
    assert first.status_code == 201
    assert first.json()["user_id"] == str(user.pk)
    again = api_client.post(
        "/api/profiles/reactions/", {"post": post.pk, "kind": "like"}
    )
    assert again.status_code == 400
    other = api_client.post(
        "/api/profiles/reactions/", {"post": post.pk, "kind": "love"}
    )
    assert other.status_code == 201


def test_reaction_kind_must_be_known(api_client):
    response = api_client.post(
        "/api/profiles/reactions/", {"post": PostFactory().pk, "kind": "meh"}
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
    body = api_client.get(f"/api/profiles/reactions/?user={user.pk}").json()
    assert [r["user_id"] for r in body["results"]] == [str(user.pk)]


def test_reaction_list_queries_do_not_grow(api_client):
    assert_list_queries_constant(
        api_client,
        "/api/profiles/reactions/",
        lambda n: ReactionFactory.create_batch(n),
    )


# --- user profiles and the stats cache table ----------------------------------


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


def test_stats_cache_table_is_staff_only(api_client, staff_client):
    assert api_client.get("/api/profiles/user-stats-cache/").status_code == 403
    assert staff_client.get("/api/profiles/user-stats-cache/").status_code == 200
