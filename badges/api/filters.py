import django_filters

from badges.models import BadgeDefinition, BadgeGrant
from config.api.filters import FilterSet


class BadgeDefinitionFilter(FilterSet):
    class Meta:
        model = BadgeDefinition
        fields = ["is_tag_badge"]


class BadgeGrantFilter(FilterSet):
    badge = django_filters.CharFilter(field_name="definition_id")

    class Meta:
        model = BadgeGrant
        fields = ["user_id", "badge"]
