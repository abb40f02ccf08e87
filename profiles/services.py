"""Writes with invariants across rows. The API and the admin both call these.

Highlights keep two invariants: at most ``MAX_HIGHLIGHTS`` per user, and a
user's positions are exactly 0..n-1. ``UNIQUE (user_id, position)`` is not
deferrable (SQLite would silently drop a deferrable one), and PostgreSQL checks
a non-deferrable unique constraint row by row, so renumbering is done in two
statements: first every moved row goes above the highest position in use, then
each gets its final position. Neither statement can collide, on either database.

Every highlight write first locks the owner's ``users`` row (``FOR NO KEY
UPDATE``: it does not block inserts that reference the user), so writes for one
user run one after another; on SQLite, ``BEGIN IMMEDIATE`` serialises writers.
"""

from collections import Counter
from itertools import groupby
from operator import itemgetter
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, Q, QuerySet, Value, When

from profiles.models import MAX_HIGHLIGHTS, Post, User, UserHighlight, UserProfile


def _users_lock(user_ids: list[UUID] | QuerySet) -> list[UUID]:
    """Lock the given users' rows (in key order, to avoid deadlocks)."""
    return list(
        User.objects.select_for_update(no_key=True)
        .filter(pk__in=user_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _positions_write(new_positions: dict[int, int], *, above: int) -> None:
    """Give highlights (by id) new positions, in two UPDATEs whatever their number.

    ``above`` is the highest position any affected user has now; moved rows
    pass through positions above it so no two rows ever share one.
    """
    if not new_positions:
        return
    moved = UserHighlight.objects.filter(pk__in=list(new_positions))
    moved.update(position=F("position") + above + 1)
    moved.update(
        position=Case(
            *(When(pk=pk, then=Value(pos)) for pk, pos in new_positions.items())
        )
    )


def _highlights_renumber(user_ids: list[UUID]) -> None:
    """Close the gaps in the given users' positions, keeping their order."""
    rows = list(
        UserHighlight.objects.filter(user_id__in=user_ids)
        .order_by("user_id", "position")
        .values_list("pk", "user_id", "position")
    )
    new_positions = {}
    for _, group in groupby(rows, key=itemgetter(1)):
        for index, (pk, _, position) in enumerate(group):
            if position != index:
                new_positions[pk] = index
    _positions_write(new_positions, above=max((r[2] for r in rows), default=0))


def highlight_add_check(*, user: User, post: Post) -> int:
    """Raise ``ValidationError`` if ``post`` cannot join ``user``'s highlights;
    otherwise return the position it would take (the end).

    ``highlight_add`` runs it under the user's lock; the admin form runs it
    first, to show a problem as a form error.
    """
    counts = UserHighlight.objects.filter(user=user).aggregate(
        total=Count("pk"), this_post=Count("pk", filter=Q(post=post))
    )
    if counts["this_post"]:
        raise ValidationError(
            {
                "post_id": ValidationError(
                    "This post is already highlighted.", code="highlight_exists"
                )
            }
        )
    if counts["total"] >= MAX_HIGHLIGHTS:
        raise ValidationError(
            {
                "post_id": ValidationError(
                    f"There are already {MAX_HIGHLIGHTS} highlights, the most "
                    "allowed; remove one first.",
                    code="highlight_limit",
                )
            }
        )
    return counts["total"]


@transaction.atomic
def highlight_add(*, user: User, post: Post) -> UserHighlight:
    """Append ``post`` to ``user``'s highlights, at the end."""
    _users_lock([user.pk])
    position = highlight_add_check(user=user, post=post)
    return UserHighlight.objects.create(user=user, post=post, position=position)


@transaction.atomic
def highlight_remove(*, user: User, post_id: int) -> None:
    """Remove ``post_id`` from ``user``'s highlights and close the gap.

    Raises ``UserHighlight.DoesNotExist`` when it is not highlighted.
    """
    _users_lock([user.pk])
    deleted, _ = UserHighlight.objects.filter(user=user, post_id=post_id).delete()
    if not deleted:
        raise UserHighlight.DoesNotExist
    _highlights_renumber([user.pk])


@transaction.atomic
def highlights_reorder(*, user: User, post_ids: list[int]) -> list[UserHighlight]:
    """Put ``user``'s highlights in the order of ``post_ids``.

    ``post_ids`` must name every current highlight exactly once. The cost is a
    fixed number of queries, whatever the number of highlights.
    """
    _users_lock([user.pk])
    current = list(
        UserHighlight.objects.filter(user=user).values_list("pk", "post_id", "position")
    )
    by_post = {post_id: (pk, position) for pk, post_id, position in current}
    problems = []
    duplicates = sorted(p for p, n in Counter(post_ids).items() if n > 1)
    if duplicates:
        problems.append(f"listed more than once: {_ids(duplicates)}")
    unknown = sorted(set(post_ids) - set(by_post))
    if unknown:
        problems.append(f"not in your highlights: {_ids(unknown)}")
    missing = sorted(set(by_post) - set(post_ids))
    if missing:
        problems.append(f"missing from the new order: {_ids(missing)}")
    if problems:
        raise ValidationError(
            {
                "post_ids": ValidationError(
                    "Send every highlighted post exactly once; %(problems)s.",
                    code="not_a_permutation",
                    params={"problems": "; ".join(problems)},
                )
            }
        )
    new_positions = {
        by_post[post_id][0]: index
        for index, post_id in enumerate(post_ids)
        if by_post[post_id][1] != index
    }
    _positions_write(new_positions, above=max((r[2] for r in current), default=0))
    return list(
        UserHighlight.objects.filter(user=user)
        .select_related("post__author")
        .order_by("position")
    )


def _ids(values: list[int]) -> str:
    return ", ".join(str(v) for v in values)


@transaction.atomic
def highlight_owners_lock(*, posts) -> list[UUID]:
    """Lock and return the users who highlighted any of ``posts`` (a queryset).

    Called before posts are deleted: the database then removes their
    highlights itself, and ``highlights_compact`` closes the gaps afterwards.
    """
    return _users_lock(UserHighlight.objects.filter(post__in=posts).values("user_id"))


@transaction.atomic
def highlights_compact(*, user_ids: list[UUID]) -> None:
    """Renumber the given users' highlights to 0..n-1, keeping their order."""
    _highlights_renumber(_users_lock(user_ids))


@transaction.atomic
def profile_update(*, user: User, profile: dict | None = None, **fields) -> User:
    """Update ``user``'s own fields (``tagline``) and create or update their
    profile with the ``profile`` values given. Values are already validated."""
    if fields:
        for name, value in fields.items():
            setattr(user, name, value)
        user.save(update_fields=list(fields))
    if profile:
        user.profile, _ = UserProfile.objects.update_or_create(
            user=user, defaults=profile
        )
    return user
