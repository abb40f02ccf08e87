"""The wellness community (seed 003): tags and each user's interests in them,
stories with a visibility, habits, one garden per user, and the feature
vectors that matching compares, with the matches it found.

The seed's ``users`` is ``profiles.User`` and its ``user_profiles`` is
``profiles.UserProfile`` (DESIGN.md). Every foreign key is the seed's ON
DELETE CASCADE in the database itself (``DB_CASCADE``): deleting a user, even
with raw SQL, removes their rows here, and deleting a tag its ``user_tags``.
docs/schema-decisions.md lists where this differs from the seed.
"""

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from config.fields import (
    BoundedTextField,
    Now,
    StringArrayField,
    UpdatedAtField,
    validate_json_object,
)

TAG_NAME_LENGTH = 64
# The longest feature vector accepted (docs/schema-decisions.md): matching
# costs users x users x dimensions, and 64 is more than a questionnaire needs.
VECTOR_MAX_LENGTH = 64


def _user_key(related_name: str, **kwargs) -> models.ForeignKey:
    kwargs.setdefault("db_index", False)  # each table's own index leads with it
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DB_CASCADE,
        related_name=related_name,
        **kwargs,
    )


def tag_name_normalise(name: str) -> str:
    """A tag's name as stored: trimmed and in lower case."""
    return name.strip().lower()


def validate_vector(value) -> None:
    """A feature vector: a JSON array of 1 to ``VECTOR_MAX_LENGTH`` finite
    numbers."""
    if not isinstance(value, list) or not value:
        raise ValidationError(
            "Enter a non-empty JSON array of numbers.", code="invalid_type"
        )
    if len(value) > VECTOR_MAX_LENGTH:
        raise ValidationError(
            f"A vector has at most {VECTOR_MAX_LENGTH} numbers; this has {len(value)}.",
            code="max_length",
        )
    for index, number in enumerate(value):
        finite = isinstance(number, int | float) and not isinstance(number, bool)
        try:
            finite = finite and math.isfinite(float(number))
        except OverflowError:  # an integer beyond any float
            finite = False
        if not finite:
            raise ValidationError(
                f"Item {index} is not a finite number.", code="invalid"
            )


class Tag(models.Model):
    """A word of the shared vocabulary (``growth``, ``meditation``): users'
    interests and stories' tags. Names are trimmed and in lower case
    (``tag_name_normalise``), so each word exists once."""

    name = models.CharField(max_length=TAG_NAME_LENGTH, unique=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="UserTag",
        related_name="interests",
        blank=True,
        help_text="Users interested in this tag.",
    )

    class Meta:
        db_table = "tags"
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserTag(models.Model):
    """A user's interest in a tag. The seed's key is the pair: no ``id``."""

    pk = models.CompositePrimaryKey("user_id", "tag_id")
    user = _user_key("user_tags")
    tag = models.ForeignKey(
        Tag, on_delete=models.DB_CASCADE, related_name="user_tags", db_index=False
    )

    class Meta:
        db_table = "user_tags"
        ordering = ["user_id", "tag_id"]
        indexes = [models.Index(fields=["tag"], name="idx_user_tags_tag_id")]

    def __str__(self):
        return f"{self.user_id} likes {self.tag_id}"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private (the author only)"
    PUBLIC = "public", "Public (every signed-in user)"
    FRIENDS = "friends", "Friends (the author only, until friendships exist)"


class Story(models.Model):
    """A user's story. ``tags_cached`` holds its tags' names, kept by
    ``wellness.services`` (the tags are created as needed)."""

    user = _user_key("stories")
    title = models.CharField(max_length=140)
    content = BoundedTextField(max_length=10_000)
    visibility = models.CharField(
        max_length=16,
        choices=Visibility,
        default=Visibility.PRIVATE,
        db_default=Visibility.PRIVATE,
    )
    tags_cached = StringArrayField(
        max_length=TAG_NAME_LENGTH,
        null=True,
        blank=True,
        editable=False,
        help_text="The story's tag names (varchar[] on PostgreSQL).",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        db_table = "stories"
        verbose_name_plural = "stories"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility__in=Visibility.values),
                name="stories_visibility_check",
            )
        ]
        indexes = [
            models.Index(
                fields=["user", "-created_at"], name="idx_stories_user_created"
            ),
            models.Index(fields=["visibility"], name="idx_stories_visibility"),
            # Not in the seed: public stories newest first, by tag
            # (docs/schema-decisions.md).
            models.Index(
                fields=["visibility", "-created_at", "-id"],
                name="idx_stories_visibility_created",
            ),
        ]

    def __str__(self):
        return self.title


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    CUSTOM = "custom", "Custom"


class Habit(models.Model):
    """A habit a user tracks; its name is unique among theirs."""

    user = _user_key("habits")
    name = models.CharField(max_length=80)
    frequency = models.CharField(
        max_length=24, choices=Frequency, null=True, blank=True
    )
    meta = models.JSONField(
        default=dict,
        db_default={},
        blank=True,
        validators=[validate_json_object],
        help_text='Free-form details, a JSON object: {"minutes": 10}.',
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "habits"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                name="habits_user_id_name_key",
                violation_error_message="You already have a habit with this name.",
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values),
                name="habits_frequency_check",
            ),
        ]

    def __str__(self):
        return self.name


class Garden(models.Model):
    """A user's virtual garden: one per user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.DB_CASCADE, related_name="garden"
    )
    name = models.CharField(max_length=80)
    theme = models.CharField(max_length=40, null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "gardens"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.name


class UserFeature(models.Model):
    """A user's feature vector for matching. ``version`` names the feature
    schema that produced it: only vectors of one version and length compare."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.DB_CASCADE,
        primary_key=True,
        related_name="features",
    )
    vector = models.JSONField(
        validators=[validate_vector],
        help_text=f"1 to {VECTOR_MAX_LENGTH} finite numbers: [0.1, 0.5, ...].",
    )
    version = models.PositiveIntegerField(default=1, db_default=1)
    updated_at = UpdatedAtField()

    class Meta:
        db_table = "user_features"
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["updated_at"], name="idx_user_features_updated")
        ]

    def __str__(self):
        return f"Features of {self.user_id} (v{self.version})"


class MatchResult(models.Model):
    """One match of a batch: how alike ``target_user``'s vector is to
    ``user``'s (cosine similarity, 0 to 1). Written by ``wellness.matching``,
    one batch (one ``created_at``) per user and run."""

    user = _user_key("match_results")
    target_user = _user_key("matched_by", db_index=True)  # a user's deletion
    score = models.FloatField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "match_results"
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "target_user", "created_at"],
                name="match_results_user_target_created_key",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=1),
                name="match_results_score_check",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-score"], name="idx_match_results_user_score")
        ]

    def __str__(self):
        return f"{self.user_id} ~ {self.target_user_id}: {self.score:.3f}"
