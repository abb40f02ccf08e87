"""Users and what hangs off them: profiles, posts, reactions, highlights, stats.

Tables are seed 000's (plus ``user_profiles`` from seeds 003 and 004); see
docs/schema-decisions.md for every place the schema differs from the seeds.

Foreign keys to ``posts`` cascade in the database (``DB_CASCADE``, the seed's
``ON DELETE CASCADE``). Django then sends no signals for the rows PostgreSQL
deletes, so the highlight invariants are kept by ``profiles.signals``.
"""

import uuid
from operator import itemgetter

import orjson
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    URLValidator,
)
from django.db import connections, models
from django.db.models import OuterRef, Q, Subquery, TextField, Value
from django.db.models.aggregates import StringAgg
from django.db.models.functions import UUID4, Cast, JSONObject, Lower

from badges.models import BadgeGrant
from config import privacy
from config.api.lean import sql_rows
from config.fields import URL_MAX_LENGTH, BoundedTextField, Now, UpdatedAtField
from profiles.fields import TaglineField
from profiles.sql import REACTED_POSTS_SQL

MAX_HIGHLIGHTS = 128
REACTED_POSTS_WINDOW = 8192
REACTION_EXISTS = "You already reacted to this post that way."

http_url = URLValidator(schemes=["http", "https"])


class UserQuerySet(models.QuerySet):
    def with_email(self, email: str) -> "UserQuerySet":
        """Users whose email is ``email`` in any letter case.

        Compares ``lower(email)`` so PostgreSQL can use the unique index on it.
        """
        return self.alias(email_lower=Lower("email")).filter(
            email_lower=Lower(Value(email))
        )

    def with_tag_badges_json(self) -> "UserQuerySet":
        """Annotate ``tag_badges_json``: the user's tag badges as JSON objects
        ``{"id", "badge", "label", "icon_url_16"}`` (``id`` is the grant's)
        joined by commas, in no particular order, or None; ``tag_badges``
        turns it into the API's list. One subquery: a list of users with
        their badges is one query."""
        badge = JSONObject(
            id="pk",
            badge="definition_id",
            label="definition__label",
            icon_url_16="definition__icon_url_16",
        )
        grants = (
            BadgeGrant.objects.filter(user=OuterRef("pk"))
            .filter(definition__is_tag_badge=True)
            .order_by()
            .values("user")
            .annotate(joined=StringAgg(Cast(badge, TextField()), Value(",")))
            .values("joined")
        )
        return self.annotate(tag_badges_json=Subquery(grants))


def tag_badges(joined: str | None) -> list[dict]:
    """The API's ``tag_badges`` from ``tag_badges_json``: in the order they
    were granted (``BadgeGrant.objects.tag_badges()``'s order)."""
    grants = sorted(orjson.loads(f"[{joined or ''}]"), key=itemgetter("id"))
    return [
        {"badge": g["badge"], "label": g["label"], "icon_url_16": g["icon_url_16"]}
        for g in grants
    ]


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A login account; the one ``users`` table all five documents share."""

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, db_default=UUID4(), editable=False
    )
    email = models.EmailField("email address", max_length=254)
    tagline = TaglineField(help_text="Shown under the username; at most 48 characters.")
    auth0_sub = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="Subject of this user at the identity provider (seed 003).",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    date_joined = None  # created_at is the seeds' name for it

    objects = UserManager()

    class Meta:
        db_table = "users"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="users_email_lower_key",
                violation_error_message="A user with that email address already "
                "exists (emails are compared ignoring letter case).",
                violation_error_code="unique_email",
            )
        ]

    def __str__(self):
        return self.username


class MusicProvider(models.TextChoices):
    SPOTIFY = "spotify", "Spotify"
    SOUNDCLOUD = "soundcloud", "SoundCloud"


class UserProfile(models.Model):
    """The public profile of one user (seeds 003 and 004, one row per user)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.DB_CASCADE,
        primary_key=True,
        related_name="profile",
    )
    display_name = models.CharField(max_length=80, null=True, blank=True)
    bio = BoundedTextField(max_length=500, null=True, blank=True)
    journaling_frequency = models.IntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(7)],
        help_text="Journaling entries per week (0-7) in the wellness app.",
    )
    avatar_url = BoundedTextField(
        max_length=URL_MAX_LENGTH, null=True, blank=True, validators=[http_url]
    )
    banner_url = BoundedTextField(
        max_length=URL_MAX_LENGTH, null=True, blank=True, validators=[http_url]
    )
    theme_color = models.CharField(
        max_length=20,
        null=True,
        blank=True,
        default="#7A5AF8",
        db_default="#7A5AF8",
        validators=[
            RegexValidator(
                r"^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$",
                "Enter a colour as #RRGGBB or #RRGGBBAA.",
            )
        ],
    )
    profile_music_url = BoundedTextField(
        max_length=URL_MAX_LENGTH, null=True, blank=True, validators=[http_url]
    )
    profile_music_provider = models.CharField(
        max_length=20, null=True, blank=True, choices=MusicProvider
    )
    location = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        help_text="Approximate: a city or neighbourhood, never an address.",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        db_table = "user_profiles"
        constraints = [
            models.CheckConstraint(
                condition=Q(journaling_frequency__gte=0, journaling_frequency__lte=7),
                name="user_profiles_journaling_frequency_check",
            ),
            models.CheckConstraint(
                condition=Q(profile_music_provider__in=MusicProvider.values),
                name="user_profiles_profile_music_provider_check",
            ),
        ]

    def __str__(self):
        return f"Profile of {self.user_id}"


class PostQuerySet(models.QuerySet):
    def shown_to(self, reader):
        """Without the posts of users hidden from ``reader`` (a block, either
        way: config.privacy)."""
        return self.exclude(privacy.hidden("author", reader))


class Post(models.Model):
    """A post a user wrote. Minimal: seed 000 assumes this table exists."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DB_CASCADE,
        related_name="posts",
        db_index=False,  # ix_posts_author_created leads with author_id
    )
    body = BoundedTextField(max_length=5_000)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = PostQuerySet.as_manager()

    class Meta:
        db_table = "posts"
        indexes = [
            # A user's posts, newest first, page after page (the id breaks ties).
            models.Index(
                fields=["author", "-created_at", "-id"], name="ix_posts_author_created"
            ),
            # ?ordering=created_at / -created_at, with the id as tiebreaker.
            models.Index(fields=["-created_at", "-id"], name="ix_posts_created"),
        ]

    def __str__(self):
        excerpt = self.body if len(self.body) <= 40 else f"{self.body[:39]}…"
        return f"#{self.pk}: {excerpt}"


class ReactionKind(models.TextChoices):
    LIKE = "like", "Like"
    LOVE = "love", "Love"
    LAUGH = "laugh", "Laugh"
    WOW = "wow", "Wow"
    SAD = "sad", "Sad"
    ANGRY = "angry", "Angry"


class ReactionQuerySet(models.QuerySet):
    def reacted_posts(
        self,
        user_id,
        *,
        reader,
        position: tuple | None = None,
        reverse: bool = False,
        limit: int = 50,
        window: int = REACTED_POSTS_WINDOW,
    ) -> list[dict]:
        """The lightning tab as ``reader`` sees it: posts ``user_id`` (if
        active, and not hidden from ``reader``) reacted to within their last
        ``window`` reactions, each once, by the user's newest reaction to it,
        newest first (oldest first when ``reverse``), after ``position``
        (``(reacted_at, reaction_id)``), without the posts of users hidden
        from ``reader``. One query, no COUNT: rows with ``id``, ``body``,
        ``created_at``, ``author_id``, ``author__username``, ``reacted_at``
        and ``reaction_id``."""
        sql, params = self.reacted_posts_sql(
            user_id,
            reader=reader,
            position=position,
            reverse=reverse,
            limit=limit,
            window=window,
        )
        created = self.model._meta.get_field("created_at")
        columns = {
            "id": Post._meta.pk,
            "body": Post._meta.get_field("body"),
            "created_at": created,
            "author_id": User._meta.pk,
            "author__username": User._meta.get_field("username"),
            "reacted_at": created,
            "reaction_id": self.model._meta.pk,
        }
        return sql_rows(sql, params, columns, using=self.db)

    def reacted_posts_sql(
        self, user_id, *, reader, position, reverse, limit, window
    ) -> tuple[str, list]:
        """``reacted_posts``' SQL and parameters (for EXPLAIN)."""
        connection = connections[self.db]
        user = User._meta.pk.get_db_prep_value(user_id, connection)
        hidden, hidden_params = privacy.hidden_users_sql(reader, using=self.db)
        params = [user, user, *hidden_params, window, *hidden_params]
        after = ""
        if position is not None:
            after = "AND (created_at, id) {} (%s, %s)".format(">" if reverse else "<")
            created = self.model._meta.get_field("created_at")
            params += [created.get_db_prep_value(position[0], connection), position[1]]
        sql = REACTED_POSTS_SQL.format(
            hidden=hidden, after=after, direction="ASC" if reverse else "DESC"
        )
        return sql, [*params, limit]


class Reaction(models.Model):
    """One user's reaction of one kind to one post."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DB_CASCADE,
        related_name="reactions",
        db_index=False,  # ix_reactions_user_created leads with user_id
    )
    post = models.ForeignKey(
        Post,
        on_delete=models.DB_CASCADE,
        related_name="reactions",
        db_index=False,  # uq_reactions_post_user_kind leads with post_id
    )
    kind = models.CharField(max_length=16, choices=ReactionKind)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = ReactionQuerySet.as_manager()

    class Meta:
        db_table = "reactions"
        constraints = [
            # Led by post_id, not user_id: a user's reactions are found through
            # ix_reactions_user_created alone (the lightning tab's plan), and
            # this one serves "reactions to a post" and the cascades.
            models.UniqueConstraint(
                fields=["post", "user", "kind"],
                name="uq_reactions_post_user_kind",
                violation_error_message=REACTION_EXISTS,
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReactionKind.values), name="reactions_kind_check"
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "-created_at"], name="ix_reactions_user_created"
            )
        ]

    def __str__(self):
        return f"{self.kind} by {self.user_id} on post {self.post_id}"


class UserHighlight(models.Model):
    """A post pinned to a user's profile at ``position`` (0 is first).

    A user's positions are always 0..n-1: the services in ``profiles.services``
    are the only writers, and they renumber after every removal.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DB_CASCADE,
        related_name="highlights",
        db_index=False,  # both unique constraints lead with user_id
    )
    post = models.ForeignKey(
        Post, on_delete=models.DB_CASCADE, related_name="highlights"
    )
    position = models.IntegerField(help_text="Display order, 0-indexed, contiguous.")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "user_highlights"
        ordering = ["user", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "post"],
                name="uq_user_highlights_user_post",
                violation_error_message="This post is already highlighted.",
            ),
            # The seed's index ix_user_highlights_user_position, made unique: it
            # is also the seed's UNIQUE (user_id, position).
            models.UniqueConstraint(
                fields=["user", "position"], name="ix_user_highlights_user_position"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=0), name="user_highlights_position_check"
            ),
        ]

    def __str__(self):
        return f"Highlight {self.position} of {self.user_id}: post {self.post_id}"


class UserStatsCache(models.Model):
    """Profile stats of one user, kept here only while Redis is unreachable."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.DB_CASCADE,
        related_name="stats_cache",
    )
    stats_json = models.JSONField()
    computed_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "user_stats_cache"
        verbose_name_plural = "user stats cache"

    def __str__(self):
        return f"Stats of {self.user_id} until {self.expires_at:%Y-%m-%d %H:%M}"
