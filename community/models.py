"""The Telegram community directory (seed 001): members, invitations, their
relationships, participation events and daily highlights.

Members are not login accounts (docs/design.md): they keep their own public
handle, ``member_id`` (``#247``), which every other table refers to. Rows that
several tables or rules touch are written only by ``community.services``.
"""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Lower

from config.fields import Now, UpdatedAtField, UUIDPrimaryKey, validate_json_object

MEMBER_ID_PREFIX = "#"
# Telegram's user ids are integers; the Bot API sends them as numbers.
telegram_id_validator = RegexValidator(
    r"^[0-9]{1,20}$", "A Telegram id is a number of at most 20 digits."
)
# GitHub's rule: letters, digits and single hyphens inside, at most 39.
github_username_validator = RegexValidator(
    r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$",
    "A GitHub username has at most 39 letters, digits and single hyphens, "
    "and does not start or end with a hyphen.",
)


# --- members ------------------------------------------------------------------------


class MemberStatus(models.TextChoices):
    NOT_MEMBER = "not_member", "Not a member"
    MEMBER = "member", "Member"
    SUSPENDED = "suspended", "Suspended"


class ReputationTier(models.TextChoices):
    """Tiers by reputation score; ``TIER_THRESHOLDS`` gives the lowest score of each."""

    NOVICE = "Novice"
    CONTRIBUTOR = "Contributor"
    EXPERT = "Expert"
    CHAMPION = "Champion"


# The lowest score of each tier above Novice, highest first. Novice is every
# score below 100, negative scores included.
TIER_THRESHOLDS = [
    (2000, ReputationTier.CHAMPION),
    (500, ReputationTier.EXPERT),
    (100, ReputationTier.CONTRIBUTOR),
]


def tier_for(score: int) -> ReputationTier:
    """The tier of ``score``."""
    for lowest, tier in TIER_THRESHOLDS:
        if score >= lowest:
            return tier
    return ReputationTier.NOVICE


def _tier_expression() -> Case:
    """``tier_for(reputation_score)`` in SQL, for the CHECK constraint."""
    return Case(
        *(
            When(reputation_score__gte=lowest, then=Value(tier.value))
            for lowest, tier in TIER_THRESHOLDS
        ),
        default=Value(ReputationTier.NOVICE.value),
    )


def _choices_check(field: str, choices, table: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=f"{table}_{field}_check"
    )


class MemberIdSequence(models.Model):
    """The last member number handed out: one row, counting up, so a
    ``member_id`` is never given twice even after its member is gone. Written
    only by ``community.services.member_ids_next``."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_value = models.BigIntegerField(
        help_text="The number of the most recent member (#N)."
    )

    class Meta:
        db_table = "community_member_id_sequence"
        constraints = [
            models.CheckConstraint(
                condition=Q(id=1), name="community_member_id_sequence_one_row"
            )
        ]

    def __str__(self):
        return f"last member id {MEMBER_ID_PREFIX}{self.last_value}"


class MemberQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class LiveMemberManager(models.Manager.from_queryset(MemberQuerySet)):
    """Members not soft-deleted: the default, so queries, forms and the API
    never show a deleted member by accident."""

    def get_queryset(self):
        return super().get_queryset().live()


class CommunityMember(models.Model):
    """A person known to the community bot: a member or not (``status``).

    ``member_id`` (``#247``) is assigned by ``services.member_create``.
    Deleting is soft (``deleted_at``): ``objects`` hides deleted members,
    ``all_objects`` shows them; references to a member are never lost.
    """

    id = UUIDPrimaryKey()
    member_id = models.CharField(
        max_length=20,
        # unique=True rather than a named UniqueConstraint: the foreign keys to
        # it depend on it, and Django drops a field's own unique constraint
        # after them when migrating backwards (a named one, before them).
        unique=True,
        editable=False,
        error_messages={"unique": "This member id is taken."},
        help_text="The public handle, #N: assigned once, never reused.",
    )
    telegram_id = models.CharField(
        max_length=255,
        validators=[telegram_id_validator],
        help_text="Telegram's numeric user id.",
    )
    telegram_username = models.CharField(
        max_length=255, null=True, blank=True, help_text="Without the @."
    )
    name = models.CharField(max_length=255)
    primary_role = models.CharField(
        max_length=50, help_text='What they mainly do: "developer", "designer", ...'
    )
    organization = models.CharField(max_length=255, null=True, blank=True)
    country = models.CharField(max_length=100, null=True, blank=True)

    github_username = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        editable=False,
        validators=[github_username_validator],
    )
    github_verified = models.BooleanField(
        default=False, db_default=False, editable=False
    )
    github_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    github_profile_data = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        validators=[validate_json_object],
        help_text="The GitHub profile as recorded at verification.",
    )

    status = models.CharField(
        max_length=20,
        choices=MemberStatus,
        default=MemberStatus.NOT_MEMBER,
        db_default=MemberStatus.NOT_MEMBER,
    )
    reputation_score = models.IntegerField(default=0, db_default=0, editable=False)
    reputation_tier = models.CharField(
        max_length=50,
        null=True,
        choices=ReputationTier,
        default=ReputationTier.NOVICE,
        db_default=ReputationTier.NOVICE,
        editable=False,
        help_text="Follows the score (services.member_reputation_change).",
    )

    invited_by = models.ForeignKey(
        "self",
        to_field="member_id",
        db_column="invited_by",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="invitees",
        help_text="The member whose invitation this member accepted.",
    )
    registration_fee_paid = models.BooleanField(
        null=True, default=False, db_default=False
    )
    registration_fee_tx_hash = models.CharField(max_length=255, null=True, blank=True)
    profile_data = models.JSONField(
        null=True, blank=True, validators=[validate_json_object]
    )

    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = UpdatedAtField()
    last_active_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The latest participation event recorded.",
    )
    deleted_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Set when soft-deleted."
    )

    objects = LiveMemberManager()
    all_objects = MemberQuerySet.as_manager()

    class Meta:
        db_table = "community_members"
        ordering = ["-reputation_score", "id"]
        permissions = [
            (
                "view_private_data",
                "Can see members' Telegram ids and GitHub data",
            )
        ]
        constraints = [
            # The seed's index member_telegram_id_idx, made unique: it is also
            # the seed's UNIQUE (telegram_id).
            models.UniqueConstraint(
                fields=["telegram_id"],
                name="member_telegram_id_idx",
                violation_error_message="A member with this Telegram id exists.",
            ),
            models.UniqueConstraint(
                Lower("github_username"),
                condition=Q(github_verified=True),
                name="community_members_github_verified_uniq",
                violation_error_message="Another member has verified this "
                "GitHub account.",
            ),
            _choices_check("status", MemberStatus, "community_members"),
            models.CheckConstraint(
                condition=Q(reputation_tier__isnull=False)
                & Q(reputation_tier=_tier_expression()),
                name="community_members_reputation_tier_check",
                violation_error_message="The tier does not match the score.",
            ),
            models.CheckConstraint(
                condition=Q(github_verified=False)
                | Q(github_verified_at__isnull=False, github_username__isnull=False),
                name="community_members_github_verified_check",
                violation_error_message="A verified GitHub account has a "
                "username and a verification time.",
            ),
        ]
        indexes = [
            models.Index(fields=["github_username"], name="member_github_username_idx"),
            models.Index(fields=["status"], name="member_status_idx"),
            models.Index(
                fields=["reputation_score"], name="member_reputation_score_idx"
            ),
            # Not in the seed: the API's ?ordering=created_at pages by it.
            models.Index(fields=["created_at", "id"], name="member_created_at_idx"),
        ]

    def __str__(self):
        return f"{self.member_id} {self.name}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


# --- invitations --------------------------------------------------------------------


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class CommunityInvitation(models.Model):
    """An invitation code a member hands out; accepted once, by one person.

    Written only by ``community.services`` (create, accept, revoke, expire).
    """

    invitation_id = UUIDPrimaryKey()
    invitation_code = models.CharField(
        max_length=16,
        editable=False,
        help_text="16 characters without look-alikes (no 0/O, 1/I/L).",
    )
    created_by = models.ForeignKey(
        CommunityMember,
        to_field="member_id",
        db_column="created_by",
        on_delete=models.PROTECT,
        db_index=False,  # invitation_created_by_idx
        related_name="invitations_created",
    )
    invited_telegram_username = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        help_text="When set, only this Telegram user (without the @) may accept.",
    )
    status = models.CharField(
        max_length=20,
        choices=InvitationStatus,
        default=InvitationStatus.PENDING,
        db_default=InvitationStatus.PENDING,
        editable=False,
    )
    expires_at = models.DateTimeField()
    accepted_by = models.ForeignKey(
        CommunityMember,
        to_field="member_id",
        db_column="accepted_by",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="invitations_accepted",
    )
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = UpdatedAtField()

    class Meta:
        db_table = "community_invitations"
        ordering = ["-created_at", "-invitation_id"]
        constraints = [
            # The seed's index invitation_code_idx, made unique: it is also
            # the seed's UNIQUE (invitation_code).
            models.UniqueConstraint(
                fields=["invitation_code"],
                name="invitation_code_idx",
                violation_error_message="This invitation code is taken.",
            ),
            _choices_check("status", InvitationStatus, "community_invitations"),
            models.CheckConstraint(
                condition=Q(
                    status=InvitationStatus.ACCEPTED,
                    accepted_by__isnull=False,
                    accepted_at__isnull=False,
                )
                | (
                    ~Q(status=InvitationStatus.ACCEPTED)
                    & Q(accepted_by__isnull=True, accepted_at__isnull=True)
                ),
                name="community_invitations_accepted_check",
                violation_error_message="An accepted invitation, and only one, "
                "has who accepted it and when.",
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="invitation_status_idx"),
            models.Index(fields=["created_by"], name="invitation_created_by_idx"),
            # Not in the seed: the list pages by creation time.
            models.Index(
                fields=["-created_at", "-invitation_id"],
                name="invitation_created_at_idx",
            ),
        ]

    def __str__(self):
        return self.invitation_code


# --- relationships, participation and highlights ------------------------------------


class RelationshipType(models.TextChoices):
    INVITED = "INVITED", "Invited"
    MENTORED = "MENTORED", "Mentored"
    COLLABORATED = "COLLABORATED", "Collaborated"
    ENDORSED = "ENDORSED", "Endorsed"


class MemberRelationship(models.Model):
    """A directed relationship: ``entity_id_a`` did ``relationship_type`` to
    ``entity_id_b`` (``INVITED``: a invited b). Entities are member ids here;
    the seed leaves room for ElizaOS entity ids, so they are not foreign keys."""

    id = UUIDPrimaryKey()
    entity_id_a = models.CharField(max_length=255)
    entity_id_b = models.CharField(max_length=255)
    relationship_type = models.CharField(max_length=50, choices=RelationshipType)
    content = models.JSONField(
        validators=[validate_json_object],
        help_text="A JSON object: what the bot knows of it.",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "member_relationships"
        ordering = ["-created_at", "-id"]
        constraints = [
            _choices_check(
                "relationship_type", RelationshipType, "member_relationships"
            )
        ]
        indexes = [
            models.Index(fields=["entity_id_a"], name="relationship_entity_a_idx"),
            models.Index(fields=["entity_id_b"], name="relationship_entity_b_idx"),
            models.Index(fields=["relationship_type"], name="relationship_type_idx"),
            # Not in the seed: the list pages by creation time.
            models.Index(
                fields=["-created_at", "-id"], name="relationship_created_at_idx"
            ),
        ]

    def __str__(self):
        return f"{self.entity_id_a} {self.relationship_type} {self.entity_id_b}"


class EventType(models.TextChoices):
    MESSAGE = "MESSAGE", "Message"
    REACTION = "REACTION", "Reaction"
    VOICE = "VOICE", "Voice"
    REPUTATION = "REPUTATION", "Reputation change"


class Platform(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"
    DISCORD = "discord", "Discord"
    SYSTEM = "system", "The directory itself"


class MemberParticipation(models.Model):
    """One thing a member did in a room: a message, a reaction, time in a
    voice chat (``event_metadata.minutes``), or a reputation change the
    directory recorded (``event_metadata.delta``). Never changed once written."""

    id = UUIDPrimaryKey()
    member = models.ForeignKey(
        CommunityMember,
        to_field="member_id",
        db_column="member_id",
        on_delete=models.PROTECT,
        db_index=False,  # participation_member_id_idx
        related_name="participation",
    )
    event_type = models.CharField(max_length=50, choices=EventType)
    platform = models.CharField(max_length=50, choices=Platform)
    room_id = models.CharField(max_length=255, help_text="The chat or channel.")
    event_metadata = models.JSONField(
        null=True, blank=True, validators=[validate_json_object]
    )
    occurred_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "member_participation"
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "member participation"
        constraints = [
            _choices_check("event_type", EventType, "member_participation"),
            _choices_check("platform", Platform, "member_participation"),
        ]
        indexes = [
            models.Index(fields=["member"], name="participation_member_id_idx"),
            models.Index(fields=["event_type"], name="participation_event_type_idx"),
            models.Index(fields=["occurred_at"], name="participation_occurred_at_idx"),
            # Not in the seed: a member's events in a time range, newest first
            # (docs/schema-decisions.md).
            models.Index(
                fields=["member", "-occurred_at", "-id"],
                name="participation_member_time_idx",
            ),
        ]

    def __str__(self):
        return f"{self.member_id} {self.event_type} at {self.occurred_at}"


class MemberDailyHighlight(models.Model):
    """One member's participation on one day (UTC), summed by
    ``services.daily_highlights_build``: rebuilt, never duplicated."""

    id = UUIDPrimaryKey()
    member = models.ForeignKey(
        CommunityMember,
        to_field="member_id",
        db_column="member_id",
        on_delete=models.PROTECT,
        db_index=False,  # highlight_member_date_idx leads with member_id
        related_name="daily_highlights",
    )
    highlight_date = models.DateField()
    message_count = models.IntegerField(
        null=True, default=0, db_default=0, validators=[MinValueValidator(0)]
    )
    reaction_count = models.IntegerField(
        null=True, default=0, db_default=0, validators=[MinValueValidator(0)]
    )
    voice_minutes = models.IntegerField(
        null=True, default=0, db_default=0, validators=[MinValueValidator(0)]
    )
    reputation_earned = models.IntegerField(
        null=True,
        default=0,
        db_default=0,
        help_text="The day's reputation changes, summed (may be negative).",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "member_daily_highlights"
        ordering = ["-highlight_date", "-id"]
        constraints = [
            # The seed's index highlight_member_date_idx, made unique: one row
            # per member per day is what makes a rebuild idempotent.
            models.UniqueConstraint(
                fields=["member", "highlight_date"],
                name="highlight_member_date_idx",
                violation_error_message="This member already has a row for this day.",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{count}__gte": 0}),
                    name=f"member_daily_highlights_{count}_check",
                )
                for count in ("message_count", "reaction_count", "voice_minutes")
            ),
        ]
        indexes = [
            # Not in the seed: the list pages by day across members.
            models.Index(fields=["-highlight_date", "-id"], name="highlight_date_idx"),
        ]

    def __str__(self):
        return f"{self.member_id} on {self.highlight_date}"
