"""Badge definitions and the grants of badges to users (seed 000).

This app does not import ``profiles``: users are ``settings.AUTH_USER_MODEL``.
"""

from django.conf import settings
from django.core.validators import validate_slug
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat

from config.fields import BoundedTextField, Now

ICON_PREFIX = "/public/badges/"


def icon_url(badge: str, size: int) -> str:
    """Where the artwork of ``badge`` at ``size`` pixels is served."""
    return f"{ICON_PREFIX}{badge}_{size}.png"


def _icon_url_expression(size: int) -> Concat:
    return Concat(Value(ICON_PREFIX), F("badge"), Value(f"_{size}.png"))


class BadgeDefinition(models.Model):
    """A badge users can be granted, with its artwork.

    Icon URLs are derived from ``badge`` on save; a tag badge (shown under the
    username) also has the 16px icon. CHECK constraints hold both rules.
    """

    badge = models.CharField(
        max_length=50,
        unique=True,
        validators=[validate_slug],
        help_text='Identifier, e.g. "early-adopter". Names the artwork files.',
    )
    label = models.CharField(max_length=100, help_text='e.g. "Early Adopter".')
    description = BoundedTextField(max_length=500, null=True, blank=True)
    icon_url_64 = models.CharField(max_length=500, editable=False)
    icon_url_16 = models.CharField(max_length=500, null=True, editable=False)
    is_tag_badge = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Shown under the username, with the 16px icon.",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "badge_definitions"
        ordering = ["badge"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_tag_badge=False) | Q(icon_url_16__isnull=False),
                name="badge_definitions_tag_badge_has_icon_16",
                violation_error_message="A tag badge needs a 16px icon.",
            ),
            models.CheckConstraint(
                condition=Q(icon_url_64=_icon_url_expression(64)),
                name="badge_definitions_icon_url_64_check",
                violation_error_message="The 64px icon must be "
                "/public/badges/{badge}_64.png.",
            ),
            models.CheckConstraint(
                condition=Q(icon_url_16__isnull=True)
                | Q(icon_url_16=_icon_url_expression(16)),
                name="badge_definitions_icon_url_16_check",
                violation_error_message="The 16px icon must be "
                "/public/badges/{badge}_16.png.",
            ),
        ]

    def __str__(self):
        return self.label

    def save(self, *args, **kwargs):
        self.icon_url_64 = icon_url(self.badge, 64)
        self.icon_url_16 = icon_url(self.badge, 16) if self.is_tag_badge else None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "icon_url_64", "icon_url_16"}
        super().save(*args, **kwargs)


class BadgeGrantQuerySet(models.QuerySet):
    def tag_badges(self):
        """Grants of tag badges, with their definitions, in the order they were
        granted (by id: grants made in one transaction share their time)."""
        return (
            self.filter(definition__is_tag_badge=True)
            .select_related("definition")
            .order_by("pk")
        )


class BadgeGrant(models.Model):
    """A badge granted to a user. Written only by ``badges.services``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="badge_grants",
        db_index=False,  # the unique (user_id, badge) index leads with user_id
    )
    definition = models.ForeignKey(
        BadgeDefinition,
        to_field="badge",
        db_column="badge",
        on_delete=models.PROTECT,
        related_name="grants",
        verbose_name="badge",
    )
    granted_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = BadgeGrantQuerySet.as_manager()

    class Meta:
        db_table = "badge_grants"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "definition"],
                name="uq_badge_grants_user_badge",
                violation_error_message="This user already has this badge.",
            )
        ]

    def __str__(self):
        return f"{self.definition_id} for {self.user_id}"
