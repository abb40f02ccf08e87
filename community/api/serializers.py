"""The community directory's API shapes. Read shapes document the lean bodies
in ``views.py`` (``*_SHAPE``), which a test compares with them; write shapes
list only what a client may send."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from community.models import (
    CommunityInvitation,
    CommunityMember,
    EventType,
    MemberDailyHighlight,
    MemberParticipation,
    MemberRelationship,
    Platform,
    github_username_validator,
    telegram_id_validator,
)
from community.services import MAX_REPUTATION_DELTA, username_normal
from config.api.serializers import JSONObjectField, ModelSerializer, Serializer

MAX_EVENTS = 1000
MAX_VOICE_MINUTES = 24 * 60
# How far ahead of the server's clock an event may be (a bot's clock drifts).
FUTURE_SKEW = timedelta(minutes=5)
# The columns only staff and service accounts see (community.view_private_data).
PRIVATE_FIELDS = ["telegram_id", "github_username", "github_profile_data"]

# --- members ------------------------------------------------------------------------


class MemberSerializer(ModelSerializer):
    """A member. ``telegram_id``, ``github_username`` and
    ``github_profile_data`` are null for readers without the permission to see
    Telegram ids and GitHub data (staff and service accounts have it)."""

    telegram_id = serializers.CharField(read_only=True, allow_null=True)
    github_profile_data = JSONObjectField(read_only=True, allow_null=True)
    profile_data = JSONObjectField(read_only=True, allow_null=True)

    class Meta:
        model = CommunityMember
        fields = [
            "member_id",
            "telegram_id",
            "telegram_username",
            "name",
            "primary_role",
            "organization",
            "country",
            "github_username",
            "github_verified",
            "github_verified_at",
            "github_profile_data",
            "status",
            "reputation_score",
            "reputation_tier",
            "invited_by",
            "registration_fee_paid",
            "registration_fee_tx_hash",
            "profile_data",
            "created_at",
            "updated_at",
            "last_active_at",
        ]
        read_only_fields = fields


class MemberWriteSerializer(ModelSerializer):
    """What a client may set on a member; the rest is the services' (member
    ids, GitHub verification, reputation, invitations)."""

    profile_data = JSONObjectField(required=False, allow_null=True)

    class Meta:
        model = CommunityMember
        fields = [
            "telegram_id",
            "telegram_username",
            "name",
            "primary_role",
            "organization",
            "country",
            "status",
            "registration_fee_paid",
            "registration_fee_tx_hash",
            "profile_data",
        ]
        extra_kwargs = {"registration_fee_paid": {"allow_null": False}}

    def validate_telegram_username(self, value):
        return username_normal(value)


class MemberUpdateSerializer(MemberWriteSerializer):
    """A member's Telegram id is who they are: it does not change."""

    class Meta(MemberWriteSerializer.Meta):
        fields = MemberWriteSerializer.Meta.fields[1:]


class GitHubVerificationSerializer(Serializer):
    github_username = serializers.CharField(
        max_length=39, validators=[github_username_validator]
    )
    github_verified = serializers.BooleanField(
        default=True, help_text="False records a failed check."
    )
    github_profile_data = JSONObjectField(required=False, allow_null=True)


class ReputationChangeSerializer(Serializer):
    delta = serializers.IntegerField(
        min_value=-MAX_REPUTATION_DELTA,
        max_value=MAX_REPUTATION_DELTA,
        help_text="Points to add; negative to take away.",
    )
    reason = serializers.CharField(max_length=200)


# --- invitations --------------------------------------------------------------------


class InvitationSerializer(ModelSerializer):
    class Meta:
        model = CommunityInvitation
        fields = [
            "invitation_id",
            "invitation_code",
            "created_by",
            "invited_telegram_username",
            "status",
            "expires_at",
            "accepted_by",
            "accepted_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class InvitationCreateSerializer(Serializer):
    created_by = serializers.CharField(
        max_length=20, help_text="The inviting member's id (#N)."
    )
    invited_telegram_username = serializers.CharField(
        max_length=255,
        required=False,
        allow_null=True,
        help_text="When given, only this Telegram user may accept.",
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="By default a week from now."
    )

    def validate_created_by(self, value) -> CommunityMember:
        member = CommunityMember.objects.filter(member_id=value).first()
        if member is None:
            raise serializers.ValidationError(
                f"No member {value}.", code="does_not_exist"
            )
        return member


class InvitationAcceptSerializer(Serializer):
    invitation_code = serializers.CharField(max_length=32)
    telegram_id = serializers.CharField(
        max_length=255, validators=[telegram_id_validator]
    )
    telegram_username = serializers.CharField(
        max_length=255, required=False, allow_null=True
    )
    name = serializers.CharField(
        max_length=255,
        required=False,
        help_text="Required when the Telegram user is not in the directory yet.",
    )
    primary_role = serializers.CharField(
        max_length=50,
        required=False,
        help_text="Required when the Telegram user is not in the directory yet.",
    )


# --- relationships, participation, highlights ---------------------------------------


class RelationshipSerializer(ModelSerializer):
    content = JSONObjectField()

    class Meta:
        model = MemberRelationship
        fields = [
            "id",
            "entity_id_a",
            "entity_id_b",
            "relationship_type",
            "content",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class ParticipationSerializer(ModelSerializer):
    member_id = serializers.CharField(read_only=True)
    event_metadata = JSONObjectField(read_only=True, allow_null=True)

    class Meta:
        model = MemberParticipation
        fields = [
            "id",
            "member_id",
            "event_type",
            "platform",
            "room_id",
            "event_metadata",
            "occurred_at",
        ]
        read_only_fields = fields


class ParticipationEventSerializer(Serializer):
    """One event as a bot sends it. ``REPUTATION`` events and the ``system``
    platform are the reputation service's, not a client's."""

    member_id = serializers.CharField(max_length=20)
    event_type = serializers.ChoiceField(
        choices=[c for c in EventType.choices if c[0] != EventType.REPUTATION]
    )
    platform = serializers.ChoiceField(
        choices=[c for c in Platform.choices if c[0] != Platform.SYSTEM]
    )
    room_id = serializers.CharField(max_length=255)
    event_metadata = JSONObjectField(
        required=False,
        allow_null=True,
        help_text=f'VOICE events give "minutes" (0-{MAX_VOICE_MINUTES}).',
    )
    occurred_at = serializers.DateTimeField(
        required=False, help_text="By default the time the server receives it."
    )

    def validate_occurred_at(self, value):
        if value > timezone.now() + FUTURE_SKEW:
            raise serializers.ValidationError("Must not be in the future.")
        return value

    def validate(self, attrs):
        if attrs["event_type"] == EventType.VOICE:
            minutes = (attrs.get("event_metadata") or {}).get("minutes")
            if (
                not isinstance(minutes, int)
                or isinstance(minutes, bool)
                or not 0 <= minutes <= MAX_VOICE_MINUTES
            ):
                raise serializers.ValidationError(
                    {
                        "event_metadata": "A VOICE event needs "
                        f'"minutes": an integer from 0 to {MAX_VOICE_MINUTES}.'
                    }
                )
        return attrs


class ParticipationBatchSerializer(Serializer):
    events = ParticipationEventSerializer(
        many=True, allow_empty=False, max_length=MAX_EVENTS
    )

    def validate_events(self, events):
        """Every event names a member in the directory (one query)."""
        named = {event["member_id"] for event in events}
        live = set(
            CommunityMember.objects.filter(member_id__in=named).values_list(
                "member_id", flat=True
            )
        )
        errors = [
            {}
            if event["member_id"] in live
            else {"member_id": [f"No member {event['member_id']}."]}
            for event in events
        ]
        if any(errors):
            raise serializers.ValidationError(errors)
        return events


class ParticipationBatchResultSerializer(Serializer):
    events = ParticipationSerializer(many=True, read_only=True)


class DailyHighlightSerializer(ModelSerializer):
    member_id = serializers.CharField(read_only=True)

    class Meta:
        model = MemberDailyHighlight
        fields = [
            "id",
            "member_id",
            "highlight_date",
            "message_count",
            "reaction_count",
            "voice_minutes",
            "reputation_earned",
            "created_at",
        ]
        read_only_fields = fields


class DailyHighlightBuildSerializer(Serializer):
    highlight_date = serializers.DateField(help_text="The day (UTC) to sum up.")
    members = serializers.IntegerField(
        read_only=True, help_text="How many members have a row for it."
    )
