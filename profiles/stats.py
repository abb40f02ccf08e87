"""Profile stats: counted in one query, cached in Redis with an expiry.

``user_stats_cache`` is the fallback: while Redis cannot be reached (Django's
Redis cache raises ``redis.exceptions.ConnectionError`` on every call), stats are
served from and stored in that table under the same expiry rule. The services
that alter a user's counts call ``stats_invalidate_on_commit`` (deleting posts
and users: ``profiles.signals``), which clears both places once the change is
committed. A change made while Redis is unreachable cannot clear Redis;
an entry it left stale expires after ``PROFILE_STATS_TTL`` seconds at most.
"""

import logging
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import RedisError

from badges.models import BadgeGrant
from profiles.models import Post, Reaction, User, UserHighlight, UserStatsCache

logger = logging.getLogger(__name__)

COUNTS = ("posts", "reactions_given", "reactions_received", "highlights", "badges")


def _count(queryset: QuerySet, user_field: str) -> Coalesce:
    """The number of rows of ``queryset`` whose ``user_field`` is the outer user."""
    rows = (
        queryset.filter(**{user_field: OuterRef("pk")})
        .order_by()
        .values(user_field)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)


def _cache_key(user_id: UUID) -> str:
    return f"profiles:stats:{user_id}"


def stats_compute(user_id: UUID) -> dict:
    """Count ``user_id``'s stats now, in one query; add when they expire."""
    counts = (
        User.objects.filter(pk=user_id)
        .values(
            posts_n=_count(Post.objects.all(), "author"),
            reactions_given_n=_count(Reaction.objects.all(), "user"),
            reactions_received_n=_count(Reaction.objects.all(), "post__author"),
            highlights_n=_count(UserHighlight.objects.all(), "user"),
            badges_n=_count(BadgeGrant.objects.all(), "user"),
        )
        .get()
    )
    now = timezone.now()
    return {
        **{name: counts[f"{name}_n"] for name in COUNTS},
        "computed_at": now,
        "expires_at": now + timedelta(seconds=settings.PROFILE_STATS_TTL),
    }


def stats_get(user_id: UUID) -> dict:
    """``user_id``'s stats from Redis, computed and cached there on a miss.

    When Redis is unreachable, ``user_stats_cache`` serves instead.
    """
    key = _cache_key(user_id)
    try:
        stats = cache.get(key)
        if stats is None:
            stats = stats_compute(user_id)
            cache.set(key, stats, timeout=settings.PROFILE_STATS_TTL)
        return stats
    except RedisError:
        logger.warning("Redis unreachable: profile stats from user_stats_cache")
        return _stats_from_table(user_id)


def _stats_from_table(user_id: UUID) -> dict:
    row = UserStatsCache.objects.filter(
        user_id=user_id, expires_at__gt=timezone.now()
    ).first()
    if row is not None:
        return {
            **row.stats_json,
            "computed_at": row.computed_at,
            "expires_at": row.expires_at,
        }
    stats = stats_compute(user_id)
    UserStatsCache.objects.update_or_create(
        user_id=user_id,
        defaults={
            "stats_json": {name: stats[name] for name in COUNTS},
            "computed_at": stats["computed_at"],
            "expires_at": stats["expires_at"],
        },
    )
    return stats


def stats_invalidate(user_ids) -> None:
    """Forget the cached stats of ``user_ids``, in Redis and in the table."""
    user_ids = {user_id for user_id in user_ids if user_id is not None}
    if not user_ids:
        return
    UserStatsCache.objects.filter(user_id__in=user_ids).delete()
    try:
        cache.delete_many([_cache_key(user_id) for user_id in user_ids])
    except RedisError:
        logger.warning("Redis unreachable: stale profile stats expire on their own")


def stats_invalidate_on_commit(user_ids) -> None:
    """``stats_invalidate`` once the current transaction commits, so no
    request that read the old counts before the commit can cache them again."""
    user_ids = set(user_ids)
    transaction.on_commit(lambda: stats_invalidate(user_ids))
