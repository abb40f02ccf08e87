from django.contrib.auth import get_user_model
from django.core.validators import validate_slug
from rest_framework import serializers

from badges.models import BadgeDefinition, BadgeGrant
from config.api.serializers import ModelSerializer, Serializer


class BadgeDefinitionSerializer(ModelSerializer):
    class Meta:
        model = BadgeDefinition
        fields = [
            "badge",
            "label",
            "description",
            "icon_url_64",
            "icon_url_16",
            "is_tag_badge",
            "created_at",
        ]
        read_only_fields = ["icon_url_64", "icon_url_16", "created_at"]


class BadgeDefinitionUpdateSerializer(BadgeDefinitionSerializer):
    """A badge's identifier names its grants and artwork: it never changes."""

    class Meta(BadgeDefinitionSerializer.Meta):
        read_only_fields = ["badge", *BadgeDefinitionSerializer.Meta.read_only_fields]


class BadgeGrantSerializer(ModelSerializer):
    """A grant as clients read it, with its badge's definition nested."""

    badge = serializers.CharField(source="definition_id", read_only=True)
    definition = BadgeDefinitionSerializer(read_only=True)

    class Meta:
        model = BadgeGrant
        fields = ["id", "user_id", "badge", "definition", "granted_at"]
        read_only_fields = fields


class BadgeGrantCreateSerializer(Serializer):
    user_id = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), source="user"
    )
    badge = serializers.CharField(max_length=50, validators=[validate_slug])

    def validate_badge(self, value: str) -> BadgeDefinition:
        try:
            return BadgeDefinition.objects.get(badge=value)
        except BadgeDefinition.DoesNotExist:
            raise serializers.ValidationError(
                f"There is no badge {value!r}.", code="does_not_exist"
            ) from None


class TagBadgeSerializer(ModelSerializer):
    """A tag badge as shown under a username: its 16px icon and label."""

    badge = serializers.CharField(source="definition_id")
    label = serializers.CharField(source="definition.label")
    icon_url_16 = serializers.CharField(source="definition.icon_url_16")

    class Meta:
        model = BadgeGrant
        fields = ["badge", "label", "icon_url_16"]
        read_only_fields = fields
