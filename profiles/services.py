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

Every service that changes a count shown in profile stats (posts, reactions,
highlights) invalidates the affected users' stats once the transaction
commits; deleting posts and users does it in ``profiles.signals``.
"""

import enum
import re
import secrets
from collections import Counter
from itertools import groupby
from operator import itemgetter
from uuid import UUID

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.expressions import RawSQL

from profiles.models import (
    MAX_HIGHLIGHTS,
    REACTION_EXISTS,
    Post,
    Reaction,
    User,
    UserHighlight,
    UserProfile,
)
from profiles.stats import stats_invalidate_on_commit


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
    # One CASE written out: as 128 When() expressions the ORM took most of a
    # reorder's time resolving and compiling them.
    whens = " ".join(["WHEN %s THEN %s"] * len(new_positions))
    params = [value for pair in new_positions.items() for value in pair]
    column = connection.ops.quote_name(UserHighlight._meta.pk.column)
    case = RawSQL(f"CASE {column} {whens} END", params)  # noqa: S611 (bound values)
    moved.update(position=case)


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
    highlight = UserHighlight.objects.create(user=user, post=post, position=position)
    stats_invalidate_on_commit([user.pk])
    return highlight


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
    stats_invalidate_on_commit([user.pk])


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


class Unchanged(enum.Enum):
    """A keyword left out of ``profile_update``: None means "clear" there."""

    UNCHANGED = enum.auto()


UNCHANGED = Unchanged.UNCHANGED


@transaction.atomic
def profile_update(
    *,
    user: User,
    tagline: str | Unchanged | None = UNCHANGED,
    profile: dict | Unchanged | None = UNCHANGED,
) -> None:
    """Change what ``user`` may change of their own account. Values are
    already validated.

    ``tagline``: the new tagline (None clears it). ``profile``: the profile
    values to set, creating the profile if there is none; None deletes it.
    """
    if tagline is not UNCHANGED:
        user.tagline = tagline
        user.save(update_fields=["tagline"])
    if profile is None:
        UserProfile.objects.filter(user=user).delete()
    elif profile is not UNCHANGED:
        UserProfile.objects.update_or_create(user=user, defaults=profile)


# --- posts and reactions ------------------------------------------------------------


@transaction.atomic
def post_create(*, author: User, body: str) -> Post:
    """Publish a post by ``author``."""
    post = Post.objects.create(author=author, body=body)
    stats_invalidate_on_commit([author.pk])
    return post


@transaction.atomic
def reaction_add(*, user: User, post: Post, kind: str) -> Reaction:
    """``user`` reacts to ``post`` with ``kind``; once per post and kind."""
    if Reaction.objects.filter(user=user, post=post, kind=kind).exists():
        raise ValidationError(REACTION_EXISTS, code="reaction_exists")
    reaction = Reaction.objects.create(user=user, post=post, kind=kind)
    stats_invalidate_on_commit([user.pk, post.author_id])
    return reaction


@transaction.atomic
def reaction_remove(*, reaction: Reaction) -> None:
    """Take back a reaction."""
    author_id = Post.objects.values_list("author_id", flat=True).get(
        pk=reaction.post_id
    )
    reaction.delete()
    stats_invalidate_on_commit([reaction.user_id, author_id])


# --- accounts -----------------------------------------------------------------------

USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


def _username_for(email: str) -> str:
    """A free username made from the part of ``email`` before the @."""
    base = USERNAME_UNSAFE.sub("", email.rpartition("@")[0])[:140] or "user"
    username = base
    while User.objects.filter(username__iexact=username).exists():
        username = f"{base}-{secrets.token_hex(3)}"
    return username


@transaction.atomic
def user_register(*, email: str, password: str, username: str | None = None) -> User:
    """Create an account for ``email`` (unique in any letter case) with
    ``password``, which must pass ``AUTH_PASSWORD_VALIDATORS``. Without a
    ``username``, one is made from the email address."""
    email = User.objects.normalize_email(email)
    if User.objects.with_email(email).exists():
        raise ValidationError(
            {
                "email": ValidationError(
                    "A user with that email address already exists.",
                    code="unique_email",
                )
            }
        )
    if username is not None and User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            {
                "username": ValidationError(
                    "A user with that username already exists.",
                    code="unique_username",
                )
            }
        )
    user = User(username=username or _username_for(email), email=email)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({"password": error.error_list}) from None
    user.set_password(password)
    user.save()
    return user
