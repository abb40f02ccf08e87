"""Keep highlights and cached stats right when rows go away in the database.

The seed's ``ON DELETE CASCADE`` runs inside PostgreSQL: when a post or a user
is deleted, the highlights and reactions that referenced them disappear with no
Django signal. These receivers, on the post and the user themselves, are the one
place every deletion path passes (``Model.delete()``, a queryset delete, the
admin, a cascade from a deleted user), so they learn before the delete whose
highlights and stats it touches, and repair them after. The rules themselves
live in ``profiles.services`` and ``profiles.stats``.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from badges.models import BadgeGrant
from profiles.models import Post, Reaction, User, UserHighlight
from profiles.services import highlight_owners_lock, highlights_compact
from profiles.stats import stats_invalidate


def _stats_invalidate_on_commit(user_ids) -> None:
    """Invalidate after commit, so no reader can cache the old counts again."""
    user_ids = set(user_ids)
    transaction.on_commit(lambda: stats_invalidate(user_ids))


@receiver(pre_delete, sender=Post)
def _post_pre_delete(sender, instance, **kwargs):
    posts = Post.objects.filter(pk=instance.pk)
    instance._highlight_owners = highlight_owners_lock(posts=posts)
    reactors = Reaction.objects.filter(post=instance).values_list("user_id", flat=True)
    _stats_invalidate_on_commit(
        [instance.author_id, *instance._highlight_owners, *reactors]
    )


@receiver(post_delete, sender=Post)
def _post_post_delete(sender, instance, **kwargs):
    if instance._highlight_owners:  # most deleted posts were never highlighted
        highlights_compact(user_ids=instance._highlight_owners)


@receiver(pre_delete, sender=User)
def _user_pre_delete(sender, instance, **kwargs):
    posts = Post.objects.filter(author=instance)
    instance._highlight_owners = [
        owner for owner in highlight_owners_lock(posts=posts) if owner != instance.pk
    ]
    reactors = Reaction.objects.filter(post__in=posts).values_list("user_id", flat=True)
    authors_reacted_to = Post.objects.filter(reactions__user=instance).values_list(
        "author_id", flat=True
    )
    _stats_invalidate_on_commit(
        [*instance._highlight_owners, *reactors, *authors_reacted_to]
    )


@receiver(post_delete, sender=User)
def _user_post_delete(sender, instance, **kwargs):
    if instance._highlight_owners:
        highlights_compact(user_ids=instance._highlight_owners)


@receiver(post_save, sender=Post)
def _post_saved(sender, instance, created, **kwargs):
    if created:
        _stats_invalidate_on_commit([instance.author_id])


@receiver(post_save, sender=Reaction)
@receiver(post_delete, sender=Reaction)
def _reaction_changed(sender, instance, created=True, **kwargs):
    if created:
        author = Post.objects.filter(pk=instance.post_id).values_list(
            "author_id", flat=True
        )
        _stats_invalidate_on_commit([instance.user_id, *author])


@receiver(post_save, sender=UserHighlight)
@receiver(post_delete, sender=UserHighlight)
@receiver(post_save, sender=BadgeGrant)
@receiver(post_delete, sender=BadgeGrant)
def _user_count_changed(sender, instance, created=True, **kwargs):
    if created:
        _stats_invalidate_on_commit([instance.user_id])
