"""Profile stats: counts, the Redis cache, the user_stats_cache fallback while
Redis is unreachable, and invalidation by every change that alters them."""

import os
import socket
from datetime import timedelta

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from badges.models import BadgeDefinition
from badges.services import badge_grant, badge_revoke
from config.settings import cache_config
from profiles import services
from profiles.models import UserStatsCache
from profiles.stats import stats_get
from tests.profiles.factories import PostFactory, ReactionFactory, UserFactory

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    """Django's Redis cache pointed at a closed port, as settings would make it."""
    settings.CACHES = cache_config(f"redis://127.0.0.1:{closed_port()}/0")


@pytest.fixture
def redis_up(settings):
    """Django's Redis cache on the real Redis (skipped where none runs)."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    settings.CACHES = cache_config(REDIS_URL)


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


def test_stats_of_unknown_user_is_a_404(api_client):
    url = "/api/profiles/users/00000000-0000-4000-8000-000000000000/stats/"
    assert api_client.get(url).status_code == 404


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


def test_redis_down_writes_still_succeed(redis_down, api_client, user):
    """Invalidation cannot reach Redis either; the request succeeds anyway."""
    response = api_client.post("/api/profiles/posts/", {"body": "hi"})
    assert response.status_code == 201


# --- invalidation -------------------------------------------------------------


@pytest.fixture
def locmem(settings):
    settings.CACHES = cache_config(None)


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
    "post created": (lambda u, o: PostFactory(author=u), "posts", 1),
    "post deleted": (lambda u, o: u.posts.get().delete(), "posts", -1),
    "reaction given": (lambda u, o: ReactionFactory(user=u), "reactions_given", 1),
    "reaction received": (
        lambda u, o: ReactionFactory(user=o, post=u.posts.get(), kind="wow"),
        "reactions_received",
        1,
    ),
    "reaction removed": (
        lambda u, o: u.reactions.first().delete(),
        "reactions_given",
        -1,
    ),
    "reacted post deleted": (
        lambda u, o: o.posts.first().delete(),
        "reactions_given",
        -1,
    ),
    "reactor deleted": (lambda u, o: o.delete(), "reactions_received", -1),
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
