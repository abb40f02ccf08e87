"""Keep highlights and cached stats right when posts and users are deleted.

The seed's ``ON DELETE CASCADE`` runs inside PostgreSQL: deleting a post, or a
user (with their posts), removes highlights and reactions with no Django
signal for those rows. The delete signals of the post and the user themselves
are the one hook every deletion path passes (``Model.delete()``, a queryset
delete, the admin), so these receivers learn before the delete whose
highlights and stats it touches, and repair them after (docs/design.md).

They work once per deletion, not once per row: Django sends every
``pre_delete`` of a deletion before any row goes and every ``post_delete``
after, all with the same ``origin`` (the instance or queryset whose
``delete()`` ran). The first ``pre_delete`` locks and gathers for all the rows
of ``origin``; the first ``post_delete`` repairs. A queryset delete of many
posts costs the same few queries as deleting one.

Creating and changing rows is the services' job, which invalidate stats
themselves; badges announce their grant changes with a signal of their own.
"""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import QuerySet
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from badges.signals import grants_changed
from profiles.models import Post, Reaction, User
from profiles.services import highlight_owners_lock, highlights_compact
from profiles.stats import stats_invalidate_on_commit


@dataclass
class _Repair:
    """What one deletion must repair once its rows are gone."""

    highlight_owners: list[UUID]
    done: bool = False


def _deleted(sender, instance, origin) -> QuerySet | Post | User:
    """What is being deleted: ``origin`` when it is a queryset of ``sender``
    (the whole batch), else the one ``instance``."""
    if isinstance(origin, QuerySet) and origin.model is sender:
        return origin
    return instance


def _rows(sender, deleted) -> QuerySet:
    if isinstance(deleted, QuerySet):
        return deleted
    return sender.objects.filter(pk=deleted.pk)


def _once_per_deletion(gather):
    """A ``pre_delete`` receiver that calls ``gather(rows)`` once per deletion,
    with all the rows it deletes, and keeps the highlight owners ``gather``
    returns for the repair after. Later rows of the same batch do nothing; a
    later ``delete()`` of the same queryset starts afresh."""

    def on_pre_delete(sender, instance, origin, **kwargs):
        deleted = _deleted(sender, instance, origin)
        repair = getattr(deleted, "_profiles_repair", None)
        if repair is None or repair.done:
            owners = gather(_rows(sender, deleted))
            deleted._profiles_repair = _Repair(highlight_owners=owners)

    return on_pre_delete


def _repair(deleted) -> _Repair | None:
    """The first ``post_delete`` of a deletion gets its ``_Repair``; later
    rows of the same batch get None."""
    repair = deleted._profiles_repair
    if repair.done:
        return None
    repair.done = True
    return repair


def _reactors(posts: QuerySet):
    return (
        Reaction.objects.filter(post__in=posts)
        .values_list("user_id", flat=True)
        .distinct()
    )


@receiver(pre_delete, sender=Post)
@_once_per_deletion
def _posts_deleting(posts: QuerySet) -> list[UUID]:
    owners = highlight_owners_lock(posts=posts)
    stats_invalidate_on_commit(
        [
            *owners,
            *posts.values_list("author_id", flat=True).distinct(),
            *_reactors(posts),
        ]
    )
    return owners


@receiver(pre_delete, sender=User)
@_once_per_deletion
def _users_deleting(users: QuerySet) -> list[UUID]:
    # Their posts go too (in the database), and with them other users'
    # highlights of those posts and reactions to them.
    posts = Post.objects.filter(author__in=users)
    owners = highlight_owners_lock(posts=posts)
    authors_reacted_to = Post.objects.filter(reactions__user__in=users).values_list(
        "author_id", flat=True
    )
    stats_invalidate_on_commit(
        [*owners, *_reactors(posts), *authors_reacted_to.distinct()]
    )
    return owners


@receiver(post_delete, sender=Post)
@receiver(post_delete, sender=User)
def _rows_deleted(sender, instance, origin, **kwargs):
    repair = _repair(_deleted(sender, instance, origin))
    if repair and repair.highlight_owners:  # most deleted posts were never highlighted
        # Deleted users are gone: highlights_compact locks, and so renumbers,
        # only the owners that still exist.
        highlights_compact(user_ids=repair.highlight_owners)


@receiver(grants_changed)
def _badge_grants_changed(sender, user_ids, **kwargs):
    stats_invalidate_on_commit(user_ids)
