"""A social app's chat and safety layer (seed 004): group rooms with their
members and messages, private messages, presence, reports, blocks, the
moderation log and approximate locations.

The seed's ``auth_users`` is ``profiles.User`` and its ``user_profiles``
columns are ``profiles.UserProfile``'s (DESIGN.md). Foreign keys act in the
database itself: deleting a user or a room removes what is theirs
(``DB_CASCADE``), and a report keeps its record when what it names is deleted
(``DB_SET_NULL``). The moderation log outlives nothing: a moderator's account
cannot be deleted while their actions exist (``DO_NOTHING``: the database
refuses), so the log has no gaps. docs/schema-decisions.md lists where this
differs from the seed.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, When
from django.utils import timezone

from config import privacy
from config.fields import URL_MAX_LENGTH, BoundedTextField, Now, UpdatedAtField

USER = settings.AUTH_USER_MODEL
# The longest room or private message.
MESSAGE_MAX_LENGTH = 4_000


class MusicProvider(models.TextChoices):
    SPOTIFY = "spotify", "Spotify"
    SOUNDCLOUD = "soundcloud", "SoundCloud"


class ChatRoomQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Public rooms, and the private ones ``user`` belongs to (unbanned)."""
        mine = ChatRoomMember.objects.filter(user=user, is_banned=False)
        return self.filter(Q(is_public=True) | Q(pk__in=mine.values("room_id")))


class ChatRoom(models.Model):
    """A small group text room; its owner is its ``OWNR`` member."""

    room_name = models.CharField(max_length=100)
    description = BoundedTextField(max_length=500, null=True, blank=True)
    owner = models.ForeignKey(
        USER, on_delete=models.DB_CASCADE, related_name="owned_rooms"
    )
    is_public = models.BooleanField(default=True, db_default=True)
    background_color = models.CharField(
        max_length=20, default="#1A1A1E", db_default="#1A1A1E"
    )
    music_url = BoundedTextField(max_length=URL_MAX_LENGTH, null=True, blank=True)
    music_provider = models.CharField(
        max_length=20, choices=MusicProvider, null=True, blank=True
    )
    max_participants = models.IntegerField(default=50, db_default=50)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = UpdatedAtField()

    objects = ChatRoomQuerySet.as_manager()

    class Meta:
        db_table = "chat_rooms"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_participants__gte=1),
                name="chat_rooms_max_participants_check",
            ),
            models.CheckConstraint(
                condition=Q(music_provider__in=MusicProvider.values),
                name="chat_rooms_music_provider_check",
            ),
        ]

    def __str__(self):
        return self.room_name


class Role(models.TextChoices):
    OWNER = "OWNR", "Owner"
    MODERATOR = "MOD", "Moderator"
    AGENT = "AGENT", "Agent (reserved)"
    USER = "USER", "User"


class ChatRoomMember(models.Model):
    """A user's membership of a room: once per room, with a role."""

    room = models.ForeignKey(
        ChatRoom, on_delete=models.DB_CASCADE, related_name="members", db_index=False
    )
    user = models.ForeignKey(USER, on_delete=models.DB_CASCADE, related_name="rooms")
    role = models.CharField(max_length=10, choices=Role, default=Role.USER)
    is_banned = models.BooleanField(default=False, db_default=False)
    joined_at = models.DateTimeField(db_default=Now(), editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "chat_room_members"
        ordering = ["room_id", "joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "user"], name="chat_room_members_room_user_key"
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="chat_room_members_role_check"
            ),
        ]

    def __str__(self):
        return f"{self.user_id} in {self.room_id} ({self.role})"


class ChatRoomMessageQuerySet(models.QuerySet):
    def readable_by(self, user):
        """Messages of the rooms ``user`` is a current, unbanned member of,
        without those of users hidden from them (a block, either way): the
        room history they read, and the messages they may report."""
        rooms = ChatRoomMember.objects.filter(user=user, is_banned=False)
        return self.filter(room__in=rooms.values("room")).exclude(
            privacy.hidden("user", user)
        )


class ChatRoomMessage(models.Model):
    """A message in a room; ``media_url`` is an image or audio file."""

    room = models.ForeignKey(
        ChatRoom, on_delete=models.DB_CASCADE, related_name="messages", db_index=False
    )
    user = models.ForeignKey(
        USER, on_delete=models.DB_CASCADE, related_name="room_messages"
    )
    message = BoundedTextField(max_length=MESSAGE_MAX_LENGTH)
    media_url = BoundedTextField(max_length=URL_MAX_LENGTH, null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = ChatRoomMessageQuerySet.as_manager()

    class Meta:
        db_table = "chat_room_messages"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["room", "-created_at", "-id"],
                name="idx_room_messages_room_created",
            )
        ]

    def __str__(self):
        return self.message[:60]


class PrivateMessage(models.Model):
    """A message from one user to another, seen by those two only."""

    sender = models.ForeignKey(
        USER, on_delete=models.DB_CASCADE, related_name="sent_messages", db_index=False
    )
    recipient = models.ForeignKey(
        USER,
        on_delete=models.DB_CASCADE,
        related_name="received_messages",
        db_index=False,
    )
    message = BoundedTextField(max_length=MESSAGE_MAX_LENGTH)
    media_url = BoundedTextField(max_length=URL_MAX_LENGTH, null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "private_messages"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(sender=F("recipient")),
                name="private_messages_not_to_self_check",
            )
        ]
        indexes = [
            models.Index(
                fields=["sender", "recipient", "-created_at", "-id"],
                name="idx_private_messages_pair",
            ),
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                name="idx_private_messages_inbox",
            ),
        ]

    def __str__(self):
        return self.message[:60]


class Status(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    OFFLINE = "offline", "Offline"


class PresenceQuerySet(models.QuerySet):
    def seen_by(self, reader):
        """The presence of active users as ``reader`` sees it: without users
        hidden from them (a block, either way), each row with
        ``shown_room_id``, its room when ``reader`` may see that room (public,
        or theirs) and None otherwise. One statement."""
        visible = ChatRoom.objects.visible_to(reader).values("pk")
        return (
            self.filter(user__is_active=True)
            .exclude(privacy.hidden("user", reader))
            .annotate(shown_room_id=Case(When(room__in=visible, then=F("room_id"))))
        )


class Presence(models.Model):
    """A user's last heartbeat: status, activity and room. Older than
    ``SAFETY_PRESENCE_TTL`` seconds it reads as offline."""

    user = models.OneToOneField(
        USER, on_delete=models.DB_CASCADE, primary_key=True, related_name="presence"
    )
    status = models.CharField(max_length=20, choices=Status)
    activity = models.CharField(max_length=50, null=True, blank=True)
    room = models.ForeignKey(
        ChatRoom,
        on_delete=models.DB_SET_NULL,
        null=True,
        blank=True,
        related_name="present",
        db_index=False,
    )
    last_seen_at = models.DateTimeField(db_default=Now())
    updated_at = UpdatedAtField()

    objects = PresenceQuerySet.as_manager()

    class Meta:
        db_table = "presence"
        verbose_name_plural = "presence"
        ordering = ["-last_seen_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="presence_status_check"
            )
        ]
        indexes = [
            models.Index(fields=["status"], name="idx_presence_status"),
            models.Index(fields=["room"], name="idx_presence_room"),
        ]

    def __str__(self):
        return f"{self.user_id}: {self.status}"

    @staticmethod
    def stale_before():
        """Heartbeats before this moment are too old to count."""
        return timezone.now() - timedelta(seconds=settings.SAFETY_PRESENCE_TTL)

    @property
    def shown_status(self) -> str:
        """The status as others see it: offline once the heartbeat is older
        than ``SAFETY_PRESENCE_TTL``."""
        if self.last_seen_at < self.stale_before():
            return Status.OFFLINE
        return self.status


class ReportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    REVIEWING = "reviewing", "Reviewing"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


# What a review may move a report to.
REVIEW_STATUSES = [
    (s.value, s.label) for s in ReportStatus if s != ReportStatus.PENDING
]


class Report(models.Model):
    """A user's report of a user, a room or a message, reviewed by staff.
    What it names may be deleted later: the report stays, naming nothing."""

    reporter = models.ForeignKey(
        USER, on_delete=models.DB_CASCADE, related_name="reports_made"
    )
    reported_user = models.ForeignKey(
        USER,
        on_delete=models.DB_SET_NULL,
        null=True,
        blank=True,
        related_name="reports_against",
        db_index=False,  # idx_reports_reported_user
    )
    reported_room = models.ForeignKey(
        ChatRoom,
        on_delete=models.DB_SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    reported_message = models.ForeignKey(
        ChatRoomMessage,
        on_delete=models.DB_SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    report_type = models.CharField(
        max_length=50, help_text="harassment, spam, inappropriate, ..."
    )
    description = BoundedTextField(max_length=2_000, null=True, blank=True)
    status = models.CharField(
        max_length=20,
        choices=ReportStatus,
        default=ReportStatus.PENDING,
        db_default=ReportStatus.PENDING,
    )
    reviewed_by = models.ForeignKey(
        USER,
        on_delete=models.DB_SET_NULL,
        null=True,
        blank=True,
        related_name="reports_reviewed",
        db_column="reviewed_by",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "reports"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReportStatus.values),
                name="reports_status_check",
            )
        ]
        indexes = [
            models.Index(fields=["status"], name="idx_reports_status"),
            models.Index(fields=["reported_user"], name="idx_reports_reported_user"),
        ]

    def __str__(self):
        return f"{self.report_type} report #{self.pk}"


class BlockQuerySet(models.QuerySet):
    def hidden_from(self, user) -> tuple:
        """The block rule, which ``SafetyConfig`` gives the platform as the
        users hidden from ``user`` (config.privacy): the ids of the users
        ``user`` blocked, and of those who blocked ``user``, as two queries
        (subqueries of the reader's statement)."""
        ids = self.order_by()
        return (
            ids.filter(blocker=user).values_list("blocked", flat=True),
            ids.filter(blocked=user).values_list("blocker", flat=True),
        )


class Block(models.Model):
    """``blocker`` blocked ``blocked``: each of the two is hidden from the
    other, wherever the product shows a person or what they wrote
    (docs/design.md#blocks), and they cannot message each other."""

    pk = models.CompositePrimaryKey("blocker_id", "blocked_id")
    blocker = models.ForeignKey(
        USER, on_delete=models.DB_CASCADE, related_name="blocks_made", db_index=False
    )
    blocked = models.ForeignKey(
        USER,
        on_delete=models.DB_CASCADE,
        related_name="blocks_received",
        db_index=False,
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = BlockQuerySet.as_manager()

    class Meta:
        db_table = "blocks"
        ordering = ["blocker_id", "blocked_id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(blocker=F("blocked")), name="blocks_not_self_check"
            )
        ]
        indexes = [
            models.Index(fields=["blocker"], name="idx_blocks_blocker"),
            models.Index(fields=["blocked"], name="idx_blocks_blocked"),
        ]

    def __str__(self):
        return f"{self.blocker_id} blocks {self.blocked_id}"


class ActionType(models.TextChoices):
    WARN = "warn", "Warn"
    MUTE = "mute", "Mute"
    RESTRICT = "restrict", "Restrict"
    ESCALATE = "escalate", "Escalate"


class ModerationAction(models.Model):
    """One entry of the moderation log: written once by a service, with the
    acting moderator and a reason, never changed or deleted."""

    moderator = models.ForeignKey(
        USER,
        on_delete=models.DO_NOTHING,  # the database refuses: the log keeps its author
        related_name="moderation_actions_taken",
        db_index=False,  # idx_moderation_moderator
    )
    target_user = models.ForeignKey(
        USER,
        on_delete=models.DB_SET_NULL,
        null=True,
        blank=True,
        related_name="moderation_actions",
        db_index=False,  # idx_moderation_target
    )
    action_type = models.CharField(max_length=50, choices=ActionType)
    reason = BoundedTextField(max_length=1_000)
    duration_minutes = models.IntegerField(
        null=True, blank=True, help_text="Empty: permanent."
    )
    report = models.ForeignKey(
        Report,
        on_delete=models.DB_SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "moderation_actions"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action_type__in=ActionType.values),
                name="moderation_actions_action_type_check",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__gte=1),
                name="moderation_actions_duration_check",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""), name="moderation_actions_reason_check"
            ),
        ]
        indexes = [
            models.Index(fields=["target_user"], name="idx_moderation_target"),
            models.Index(fields=["moderator"], name="idx_moderation_moderator"),
        ]

    def __str__(self):
        return f"{self.action_type} of {self.target_user_id} by {self.moderator_id}"


class Location(models.Model):
    """A user's approximate place: keyed hashes (HMAC) of the city and the
    neighbourhood, never their names, and coordinates rounded to ~1 km."""

    user = models.OneToOneField(
        USER, on_delete=models.DB_CASCADE, primary_key=True, related_name="location"
    )
    city_hash = models.CharField(max_length=64)
    neighborhood_hash = models.CharField(max_length=64, null=True, blank=True)
    latitude = models.DecimalField(
        max_digits=10, decimal_places=8, null=True, blank=True
    )
    longitude = models.DecimalField(
        max_digits=11, decimal_places=8, null=True, blank=True
    )
    updated_at = UpdatedAtField()

    class Meta:
        db_table = "locations"
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["city_hash"], name="idx_locations_city"),
            models.Index(
                fields=["neighborhood_hash"], name="idx_locations_neighborhood"
            ),
        ]

    def __str__(self):
        return f"Location of {self.user_id}"
