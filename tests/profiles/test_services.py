"""The profiles services: highlights (add, remove, reorder, the 128 limit,
contiguous positions after every deletion, two writers at once), posts and
reactions, the tagline rule, profile updates, and profile stats with their
cache, fallback and invalidation."""

from datetime import timedelta

import pytest
import redis
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badges.models import BadgeDefinition
from badges.services import badge_grant, badge_revoke
from profiles import services
from profiles.models import MAX_HIGHLIGHTS, Post, User, UserHighlight, UserStatsCache
from profiles.stats import stats_get
from profiles.validators import clean_tagline
from tests.conftest import REDIS_URL
from tests.profiles.factories import PostFactory, ReactionFactory, UserFactory
from tests.profiles.helpers import ACCEPTED, REJECTED

pytestmark = pytest.mark.django_db


def positions(user) -> list[tuple[int, int]]:
    """``(position, post_id)`` of ``user``'s highlights, in order."""
    return list(
        UserHighlight.objects.filter(user=user)
        .order_by("position")
        .values_list("position", "post_id")
    )


def highlighted(user, count: int) -> list[Post]:
    posts = PostFactory.create_batch(count)
    for post in posts:
        services.highlight_add(user=user, post=post)
    return posts


def assert_contiguous(user, post_ids):
    assert positions(user) == list(enumerate(post_ids))


# --- highlights ---------------------------------------------------------------------


def test_add_appends_at_the_end(user):
    first, second, third = highlighted(user, 3)
    assert_contiguous(user, [first.pk, second.pk, third.pk])


def test_add_twice_is_refused(user):
    (post,) = highlighted(user, 1)
    with pytest.raises(ValidationError) as error:
        services.highlight_add(user=user, post=post)
    assert error.value.error_dict["post_id"][0].code == "highlight_exists"


def test_the_129th_highlight_is_refused(user):
    UserHighlight.objects.bulk_create(
        UserHighlight(user=user, post=post, position=index)
        for index, post in enumerate(PostFactory.create_batch(MAX_HIGHLIGHTS))
    )
    with pytest.raises(ValidationError) as error:
        services.highlight_add(user=user, post=PostFactory())
    assert error.value.error_dict["post_id"][0].code == "highlight_limit"
    assert UserHighlight.objects.filter(user=user).count() == MAX_HIGHLIGHTS


def test_remove_closes_the_gap(user):
    a, b, c, d = highlighted(user, 4)
    services.highlight_remove(user=user, post_id=b.pk)
    assert_contiguous(user, [a.pk, c.pk, d.pk])
    services.highlight_remove(user=user, post_id=a.pk)
    assert_contiguous(user, [c.pk, d.pk])


def test_remove_of_a_post_not_highlighted_raises(user):
    highlighted(user, 1)
    with pytest.raises(UserHighlight.DoesNotExist):
        services.highlight_remove(user=user, post_id=PostFactory().pk)


def test_reorder_applies_the_new_order(user):
    a, b, c, d = highlighted(user, 4)
    result = services.highlights_reorder(user=user, post_ids=[d.pk, b.pk, a.pk, c.pk])
    assert [h.post_id for h in result] == [d.pk, b.pk, a.pk, c.pk]
    assert_contiguous(user, [d.pk, b.pk, a.pk, c.pk])


@pytest.mark.parametrize(
    "order, problem",
    [
        (lambda a, b, c: [a, b], "missing from the new order"),
        (lambda a, b, c: [a, b, c, c], "listed more than once"),
        (lambda a, b, c: [a, b, c, 999_999], "not in your highlights"),
        (lambda a, b, c: [a, a, b], "listed more than once"),
        (lambda a, b, c: [], "missing from the new order"),
    ],
)
def test_reorder_refuses_anything_but_a_permutation(user, order, problem):
    posts = highlighted(user, 3)
    ids = [p.pk for p in posts]
    with pytest.raises(ValidationError) as error:
        services.highlights_reorder(user=user, post_ids=order(*ids))
    assert problem in str(error.value)
    assert_contiguous(user, ids)  # nothing changed


def reorder_queries(user, count: int) -> int:
    posts = highlighted(user, count)
    reversed_ids = [p.pk for p in reversed(posts)]
    with CaptureQueriesContext(connection) as queries:
        services.highlights_reorder(user=user, post_ids=reversed_ids)
    assert_contiguous(user, reversed_ids)
    return len(queries)


def test_reorder_costs_the_same_queries_for_2_and_128_highlights():
    assert reorder_queries(UserFactory(), 2) == reorder_queries(
        UserFactory(), MAX_HIGHLIGHTS
    )


# --- deleting posts and users (database cascades, profiles.signals) -----------------


def test_deleting_a_post_closes_the_gap_for_every_owner(user, other_user):
    a, b, c = highlighted(user, 3)
    services.highlight_add(user=other_user, post=b)
    services.highlight_add(user=other_user, post=c)
    b.delete()
    assert_contiguous(user, [a.pk, c.pk])
    assert_contiguous(other_user, [c.pk])


def test_queryset_delete_of_posts_closes_the_gaps(user):
    a, b, c, d, e = highlighted(user, 5)
    Post.objects.filter(pk__in=[a.pk, c.pk, e.pk]).delete()
    assert_contiguous(user, [b.pk, d.pk])


def test_deleting_the_author_closes_gaps_in_other_users_highlights(user, other_user):
    author = UserFactory()
    mine = PostFactory(author=other_user)
    theirs = PostFactory.create_batch(2, author=author)
    for post in [theirs[0], mine, theirs[1]]:
        services.highlight_add(user=user, post=post)
    author.delete()
    assert_contiguous(user, [mine.pk])


def test_deleting_posts_of_a_user_queryset_closes_gaps(user):
    authors = UserFactory.create_batch(2)
    kept = PostFactory()
    for post in [PostFactory(author=authors[0]), kept, PostFactory(author=authors[1])]:
        services.highlight_add(user=user, post=post)
    type(user).objects.filter(pk__in=[a.pk for a in authors]).delete()
    assert_contiguous(user, [kept.pk])


def test_deleting_the_same_queryset_twice_repairs_twice(user):
    """The repair state kept on a deleted queryset does not outlive its delete."""
    author = UserFactory()
    kept = PostFactory()
    services.highlight_add(user=user, post=kept)
    theirs = Post.objects.filter(author=author)
    for _ in range(2):
        post = PostFactory(author=author)
        services.highlight_add(user=user, post=post)
        services.highlights_reorder(user=user, post_ids=[post.pk, kept.pk])
        theirs.delete()
        assert_contiguous(user, [kept.pk])


def post_delete_queries(count: int) -> int:
    """Queries to delete ``count`` posts that are reacted to and highlighted."""
    author, reader = UserFactory(), UserFactory()
    posts = PostFactory.create_batch(count, author=author)
    for post in posts:
        ReactionFactory(user=reader, post=post)
        services.highlight_add(user=reader, post=post)
    kept = PostFactory()
    services.highlight_add(user=reader, post=kept)
    services.highlights_reorder(user=reader, post_ids=[kept.pk, *(p.pk for p in posts)])
    with CaptureQueriesContext(connection) as queries:
        Post.objects.filter(author=author).delete()
    assert_contiguous(reader, [kept.pk])
    return len(queries)


def test_a_queryset_delete_of_20_posts_costs_what_one_costs():
    assert post_delete_queries(20) == post_delete_queries(1)


def user_delete_queries(count: int) -> int:
    """Queries to delete ``count`` users whose posts others highlighted."""
    reader = UserFactory()
    authors = UserFactory.create_batch(count)
    for author in authors:
        post = PostFactory(author=author)
        ReactionFactory(user=reader, post=post)
        services.highlight_add(user=reader, post=post)
    kept = PostFactory()
    services.highlight_add(user=reader, post=kept)
    with CaptureQueriesContext(connection) as queries:
        User.objects.filter(pk__in=[a.pk for a in authors]).delete()
    assert_contiguous(reader, [kept.pk])
    return len(queries)


def test_a_queryset_delete_of_20_users_costs_what_one_costs():
    assert user_delete_queries(20) == user_delete_queries(1)


# --- two writers at once (PostgreSQL: SQLite serialises all writers) ----------------


def test_two_reorders_at_once_both_apply_in_turn(in_parallel):
    user = UserFactory()
    a, b, c = highlighted(user, 3)
    _, errors = in_parallel(
        lambda: services.highlights_reorder(user=user, post_ids=[c.pk, b.pk, a.pk]),
        lambda: services.highlights_reorder(user=user, post_ids=[b.pk, a.pk, c.pk]),
    )
    assert errors == {}
    assert_contiguous(user, [b.pk, a.pk, c.pk])


def test_reorder_waiting_on_a_remove_sees_the_removal(in_parallel):
    user = UserFactory()
    a, b, c = highlighted(user, 3)
    _, errors = in_parallel(
        lambda: services.highlight_remove(user=user, post_id=b.pk),
        lambda: services.highlights_reorder(user=user, post_ids=[c.pk, b.pk, a.pk]),
    )
    assert "not in your highlights" in str(errors.pop("second"))
    assert errors == {}
    assert_contiguous(user, [a.pk, c.pk])


def test_two_adds_at_once_take_consecutive_positions(in_parallel):
    user = UserFactory()
    (a,) = highlighted(user, 1)
    b, c = PostFactory.create_batch(2)
    _, errors = in_parallel(
        lambda: services.highlight_add(user=user, post=b),
        lambda: services.highlight_add(user=user, post=c),
    )
    assert errors == {}
    assert_contiguous(user, [a.pk, b.pk, c.pk])


# --- posts, reactions, profiles -----------------------------------------------------


def test_a_reaction_is_given_once_per_kind(user):
    post = PostFactory()
    services.reaction_add(user=user, post=post, kind="like")
    with pytest.raises(ValidationError) as error:
        services.reaction_add(user=user, post=post, kind="like")
    assert error.value.code == "reaction_exists"
    services.reaction_add(user=user, post=post, kind="love")
    assert user.reactions.count() == 2


def test_profile_update_changes_only_what_it_is_given(user):
    services.profile_update(user=user, tagline="Hi", profile={"bio": "Bio"})
    services.profile_update(user=user, profile={"location": "Lisbon"})
    user = User.objects.select_related("profile").get(pk=user.pk)
    assert (user.tagline, user.profile.bio, user.profile.location) == (
        "Hi",
        "Bio",
        "Lisbon",
    )
    services.profile_update(user=user, tagline=None)
    user.refresh_from_db()
    assert user.tagline is None
    assert user.profile.bio == "Bio"


def test_profile_none_deletes_the_profile(user):
    services.profile_update(user=user, profile={"bio": "Bio"})
    services.profile_update(user=user, profile=None)
    assert not User.objects.filter(pk=user.pk, profile__isnull=False).exists()
    services.profile_update(user=user, profile=None)  # no profile: nothing to do


# --- the tagline rule ---------------------------------------------------------------


@pytest.mark.parametrize("value, stored", ACCEPTED)
def test_accepted(value, stored):
    assert clean_tagline(value) == stored


@pytest.mark.parametrize("value, code", REJECTED)
def test_rejected_with_a_reason(value, code):
    with pytest.raises(ValidationError) as error:
        clean_tagline(value)
    assert error.value.code == code
    assert error.value.messages[0].startswith("Tagline ")


def test_messages_say_which_character():
    with pytest.raises(ValidationError) as error:
        clean_tagline("abc\u202e")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in error.value.messages[0]
    assert "position 4" in error.value.messages[0]


# --- profile stats: counts, Redis, the table fallback, invalidation -----------------


def stats_url(user) -> str:
    return f"/api/profiles/users/{user.pk}/stats/"


def counts(client, user) -> dict:
    body = client.get(stats_url(user)).json()
    return {k: v for k, v in body.items() if k not in ("computed_at", "expires_at")}


def test_counts(api_client, user, other_user):
    mine = PostFactory.create_batch(2, author=user)
    theirs = PostFactory(author=other_user)
    ReactionFactory(user=user, post=theirs)
    ReactionFactory(user=other_user, post=mine[0], kind="like")
    ReactionFactory(user=other_user, post=mine[0], kind="love")
    services.highlight_add(user=user, post=theirs)
    badge_grant(user=user, definition=BadgeDefinition.objects.get(badge="moderator"))
    assert counts(api_client, user) == {
        "posts": 2,
        "reactions_given": 1,
        "reactions_received": 2,
        "highlights": 1,
        "badges": 1,
    }


def test_second_read_is_served_from_the_cache(user):
    stats_get(user.pk)
    with CaptureQueriesContext(connection) as queries:
        again = stats_get(user.pk)
    assert len(queries) == 0
    assert again["posts"] == 0


def test_real_redis_holds_the_stats_with_an_expiry(
    redis_up, api_client, user, settings
):
    api_client.get(stats_url(user))
    client = redis.Redis.from_url(REDIS_URL)
    keys = client.keys(f"*profiles:stats:{user.pk}")
    assert len(keys) == 1
    assert 0 < client.ttl(keys[0]) <= settings.PROFILE_STATS_TTL
    assert not UserStatsCache.objects.filter(user=user).exists()


def test_redis_down_serves_from_the_table(redis_down, api_client, user, settings):
    PostFactory(author=user)
    response = api_client.get(stats_url(user))
    assert response.status_code == 200
    assert response.json()["posts"] == 1
    row = UserStatsCache.objects.get(user=user)
    assert row.stats_json["posts"] == 1
    assert row.expires_at - row.computed_at == timedelta(
        seconds=settings.PROFILE_STATS_TTL
    )


def test_redis_down_reads_a_fresh_row_without_counting(redis_down, user):
    now = timezone.now()
    UserStatsCache.objects.create(
        user=user,
        stats_json={
            "posts": 7,
            "reactions_given": 0,
            "reactions_received": 0,
            "highlights": 0,
            "badges": 0,
        },
        computed_at=now,
        expires_at=now + timedelta(minutes=1),
    )
    assert stats_get(user.pk)["posts"] == 7


def test_redis_down_recounts_an_expired_row(redis_down, user):
    past = timezone.now() - timedelta(hours=1)
    UserStatsCache.objects.create(
        user=user,
        stats_json={"posts": 7},
        computed_at=past - timedelta(minutes=5),
        expires_at=past,
    )
    assert stats_get(user.pk)["posts"] == 0
    assert UserStatsCache.objects.get(user=user).expires_at > timezone.now()


def test_redis_down_writes_still_succeed(
    redis_down, api_client, user, django_capture_on_commit_callbacks, caplog
):
    """Invalidation after the commit cannot reach Redis either; the write
    succeeds and the stale entry is left to expire."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post("/api/profiles/posts/", {"body": "hi"})
    assert response.status_code == 201
    assert callbacks  # the invalidation ran, and met the closed port
    assert "stale profile stats expire on their own" in caplog.text
    assert Post.objects.filter(author=user).count() == 1


@pytest.fixture(params=["locmem", "redis_up", "redis_down"])
def any_cache(request):
    """Run a test with each cache the service may meet."""
    request.getfixturevalue(request.param)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what a block queued with on_commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def change_then_count(client, user, committed, change) -> dict:
    counts(client, user)  # cached now
    with committed():
        change()
    return counts(client, user)


CHANGES = {
    "post created": (
        lambda u, o: services.post_create(author=u, body="new"),
        "posts",
        1,
    ),
    "post deleted": (lambda u, o: u.posts.get().delete(), "posts", -1),
    "posts deleted in bulk": (lambda u, o: u.posts.all().delete(), "posts", -1),
    "reaction given": (
        lambda u, o: services.reaction_add(user=u, post=PostFactory(), kind="like"),
        "reactions_given",
        1,
    ),
    "reaction received": (
        lambda u, o: services.reaction_add(user=o, post=u.posts.get(), kind="wow"),
        "reactions_received",
        1,
    ),
    "reaction removed": (
        lambda u, o: services.reaction_remove(reaction=u.reactions.first()),
        "reactions_given",
        -1,
    ),
    "reacted post deleted": (
        lambda u, o: o.posts.first().delete(),
        "reactions_given",
        -1,
    ),
    "reactor deleted": (lambda u, o: o.delete(), "reactions_received", -1),
    "reactors deleted in bulk": (
        lambda u, o: User.objects.filter(pk=o.pk).delete(),
        "reactions_received",
        -1,
    ),
    "highlight added": (
        lambda u, o: services.highlight_add(user=u, post=PostFactory()),
        "highlights",
        1,
    ),
    "highlight removed": (
        lambda u, o: services.highlight_remove(
            user=u, post_id=u.highlights.get().post_id
        ),
        "highlights",
        -1,
    ),
    "highlighted post deleted": (
        lambda u, o: u.highlights.get().post.delete(),
        "highlights",
        -1,
    ),
    "badge granted": (
        lambda u, o: badge_grant(
            user=u, definition=BadgeDefinition.objects.get(badge="early-adopter")
        ),
        "badges",
        1,
    ),
    "badge revoked": (
        lambda u, o: badge_revoke(
            user=u, definition=BadgeDefinition.objects.get(badge="moderator")
        ),
        "badges",
        -1,
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_changes_invalidate_the_stats(any_cache, api_client, user, committed, change):
    other = UserFactory()
    own_post = PostFactory(author=user)
    theirs = PostFactory(author=other)
    ReactionFactory(user=user, post=theirs)  # given
    ReactionFactory(user=other, post=own_post)  # received
    services.highlight_add(user=user, post=theirs)
    badge_grant(user=user, definition=BadgeDefinition.objects.get(badge="moderator"))
    apply, field, delta = CHANGES[change]
    before = counts(api_client, user)
    after = change_then_count(api_client, user, committed, lambda: apply(user, other))
    assert after[field] == before[field] + delta
