import django_filters

from community.models import (
    CommunityInvitation,
    CommunityMember,
    MemberDailyHighlight,
    MemberParticipation,
    MemberRelationship,
)
from config.api.filters import FilterSet


class MemberFilter(FilterSet):
    class Meta:
        model = CommunityMember
        fields = ["status", "github_verified", "invited_by", "telegram_id"]


class InvitationFilter(FilterSet):
    class Meta:
        model = CommunityInvitation
        fields = ["status", "created_by", "accepted_by", "invitation_code"]


class RelationshipFilter(FilterSet):
    entity_id = django_filters.CharFilter(
        method="either_entity", label="Either side of the relationship."
    )

    class Meta:
        model = MemberRelationship
        fields = ["entity_id_a", "entity_id_b", "entity_id", "relationship_type"]

    def either_entity(self, queryset, name, value):
        return queryset.filter(entity_id_a=value) | queryset.filter(entity_id_b=value)


class ParticipationFilter(FilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label="At or after (ISO 8601)."
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label="Before (ISO 8601)."
    )

    class Meta:
        model = MemberParticipation
        fields = ["member_id", "event_type", "platform"]


class DailyHighlightFilter(FilterSet):
    date_after = django_filters.DateFilter(
        field_name="highlight_date", lookup_expr="gte", label="On or after."
    )
    date_before = django_filters.DateFilter(
        field_name="highlight_date", lookup_expr="lte", label="On or before."
    )

    class Meta:
        model = MemberDailyHighlight
        fields = ["member_id", "highlight_date"]
