import django_filters

from badges.models import BadgeDefinition, BadgeGrant


class BadgeDefinitionFilter(django_filters.FilterSet):
    class Meta:
        model = BadgeDefinition
        fields = ["is_tag_badge"]


class BadgeGrantFilter(django_filters.FilterSet):
    badge = django_filters.CharFilter(field_name="definition_id")

    class Meta:
        model = BadgeGrant
        fields = ["user", "badge"]
