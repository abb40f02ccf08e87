"""Serializers of the safety API, and the lean shapes of its hot lists."""

from django.contrib.auth import get_user_model
from django.core.validators import URLValidator
from rest_framework import serializers

from config.api.lean import Shape
from config.api.serializers import (
    ModelSerializer,
    Serializer,
    VisiblePrimaryKeyField,
)
from config.fields import URL_MAX_LENGTH
from safety.models import (
    REVIEW_STATUSES,
    ActionType,
    Block,
    ChatRoom,
    ChatRoomMember,
    ChatRoomMessage,
    Location,
    ModerationAction,
    Presence,
    PrivateMessage,
    Report,
    Role,
    Status,
)

User = get_user_model()


class ChatRoomSerializer(ModelSerializer):
    owner_id = serializers.UUIDField(read_only=True)
    max_participants = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text="The room's limit; SAFETY_ROOM_CAPACITY caps it further.",
    )
    music_url = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=URL_MAX_LENGTH,
        validators=[URLValidator(schemes=["http", "https"])],
    )

    class Meta:
        model = ChatRoom
        fields = [
            "id",
            "room_name",
            "description",
            "owner_id",
            "is_public",
            "background_color",
            "music_url",
            "music_provider",
            "max_participants",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner_id", "created_at", "updated_at"]


class RoomMemberSerializer(ModelSerializer):
    room_id = serializers.IntegerField(read_only=True)
    user_id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ChatRoomMember
        fields = [
            "id",
            "room_id",
            "user_id",
            "username",
            "role",
            "is_banned",
            "joined_at",
            "last_seen_at",
        ]
        read_only_fields = fields


MEMBER = Shape.of(RoomMemberSerializer, {"username": "user__username"})


class InviteSerializer(Serializer):
    user_id = serializers.UUIDField(help_text="The user to add to the room.")


class RoleSerializer(Serializer):
    role = serializers.ChoiceField(choices=[Role.MODERATOR, Role.USER])


class RoomMessageSerializer(ModelSerializer):
    room_id = serializers.IntegerField(read_only=True)
    user_id = serializers.UUIDField(read_only=True)
    media_url = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=URL_MAX_LENGTH,
        help_text="An http(s) URL of an image or audio file (no video).",
    )

    class Meta:
        model = ChatRoomMessage
        fields = ["id", "room_id", "user_id", "message", "media_url", "created_at"]
        read_only_fields = ["id", "room_id", "user_id", "created_at"]


ROOM_MESSAGE = Shape.of(RoomMessageSerializer)

ROOM_ID = {"min_value": 1, "max_value": 2**63 - 1}


class RoomRefSerializer(Serializer):
    """A WebSocket event naming a room (safety.consumers)."""

    room_id = serializers.IntegerField(**ROOM_ID)


class RoomMessageSendSerializer(RoomMessageSerializer):
    """A room message sent over the WebSocket: the REST body and its room."""

    room_id = serializers.IntegerField(**ROOM_ID)


class PrivateMessageSerializer(ModelSerializer):
    sender_id = serializers.UUIDField(read_only=True)
    recipient_id = serializers.UUIDField()
    media_url = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=URL_MAX_LENGTH,
        help_text="An http(s) URL of an image or audio file (no video).",
    )

    class Meta:
        model = PrivateMessage
        fields = [
            "id",
            "sender_id",
            "recipient_id",
            "message",
            "media_url",
            "created_at",
        ]
        read_only_fields = ["id", "sender_id", "created_at"]


PRIVATE_MESSAGE = Shape.of(PrivateMessageSerializer)


class PresenceSerializer(ModelSerializer):
    """Needs ``Presence.objects.seen_by(reader)``."""

    user_id = serializers.UUIDField(read_only=True)
    room_id = serializers.IntegerField(
        source="shown_room_id",
        read_only=True,
        allow_null=True,
        help_text="The room the user is in, when you may see that room.",
    )
    status = serializers.ChoiceField(
        choices=Status.choices,
        source="shown_status",
        read_only=True,
        help_text="offline once the heartbeat is older than SAFETY_PRESENCE_TTL.",
    )

    class Meta:
        model = Presence
        fields = ["user_id", "status", "activity", "room_id", "last_seen_at"]
        read_only_fields = fields


class HeartbeatSerializer(Serializer):
    status = serializers.ChoiceField(choices=Status.choices, default=Status.ONLINE)
    activity = serializers.CharField(
        max_length=50, required=False, allow_null=True, help_text="chatting, ..."
    )
    room_id = serializers.IntegerField(required=False, allow_null=True, **ROOM_ID)


class ReportSerializer(ModelSerializer):
    """What a report may name is what its reporter can see, so that naming a
    row they cannot see is answered exactly as naming one that does not
    exist: a room visible to them, a message of a room they read (not one by
    a user hidden from them). Any active user may be named, one hidden from
    the reporter by a block too: the harassed must be able to report a
    harasser who then blocked them (docs/design.md#blocks)."""

    reporter_id = serializers.UUIDField(read_only=True)
    reported_user_id = serializers.PrimaryKeyRelatedField(
        source="reported_user",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    reported_room_id = VisiblePrimaryKeyField(
        source="reported_room",
        queryset=ChatRoom.objects.all(),
        visible=ChatRoom.objects.visible_to,
        required=False,
        allow_null=True,
    )
    reported_message_id = VisiblePrimaryKeyField(
        source="reported_message",
        queryset=ChatRoomMessage.objects.all(),
        visible=ChatRoomMessage.objects.readable_by,
        required=False,
        allow_null=True,
    )
    reviewed_by = serializers.UUIDField(source="reviewed_by_id", read_only=True)

    class Meta:
        model = Report
        fields = [
            "id",
            "reporter_id",
            "reported_user_id",
            "reported_room_id",
            "reported_message_id",
            "report_type",
            "description",
            "status",
            "reviewed_by",
            "reviewed_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "reporter_id",
            "status",
            "reviewed_by",
            "reviewed_at",
            "created_at",
        ]


class ReviewSerializer(Serializer):
    status = serializers.ChoiceField(choices=REVIEW_STATUSES)


class BlockSerializer(ModelSerializer):
    blocker_id = serializers.UUIDField(read_only=True)
    blocked_id = serializers.PrimaryKeyRelatedField(
        source="blocked", queryset=User.objects.filter(is_active=True)
    )

    class Meta:
        model = Block
        fields = ["blocker_id", "blocked_id", "created_at"]
        read_only_fields = ["blocker_id", "created_at"]


BLOCK = Shape.of(BlockSerializer)


class ModerationActionSerializer(ModelSerializer):
    moderator_id = serializers.UUIDField(read_only=True)
    target_user_id = serializers.PrimaryKeyRelatedField(
        source="target_user",
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
    )
    report_id = serializers.PrimaryKeyRelatedField(
        source="report", queryset=Report.objects.all(), required=False, allow_null=True
    )
    action_type = serializers.ChoiceField(choices=ActionType)
    duration_minutes = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        help_text="Empty: permanent.",
    )

    class Meta:
        model = ModerationAction
        fields = [
            "id",
            "moderator_id",
            "target_user_id",
            "action_type",
            "reason",
            "duration_minutes",
            "report_id",
            "created_at",
        ]
        read_only_fields = ["id", "moderator_id", "created_at"]


class LocationSerializer(ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Location
        fields = [
            "user_id",
            "city_hash",
            "neighborhood_hash",
            "latitude",
            "longitude",
            "updated_at",
        ]
        read_only_fields = fields


class LocationSetSerializer(Serializer):
    """Stored as keyed hashes and rounded coordinates; the names are not kept."""

    city = serializers.CharField(max_length=100)
    neighborhood = serializers.CharField(
        max_length=100, required=False, allow_null=True
    )
    latitude = serializers.FloatField(
        min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.FloatField(
        min_value=-180, max_value=180, required=False, allow_null=True
    )


class NearbySerializer(Serializer):
    user_id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)
    same_neighborhood = serializers.BooleanField(read_only=True)
