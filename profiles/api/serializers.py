from django.contrib.auth import authenticate
from rest_framework import serializers

from badges.api.serializers import TagBadgeSerializer
from profiles.models import (
    MAX_HIGHLIGHTS,
    Post,
    Reaction,
    User,
    UserHighlight,
    UserProfile,
    UserStatsCache,
)
from profiles.validators import clean_tagline

POSITIVE_BIGINT = {"min_value": 1, "max_value": 2**63 - 1}


class TaglineField(serializers.CharField):
    """The tagline rule of ``clean_tagline``; its problems become 400s."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, trim_whitespace=False, **kwargs)

    def run_validation(self, data=serializers.empty):
        # "" means "no tagline", like null: clean_tagline makes both None.
        return super().run_validation(None if data == "" else data)

    def to_internal_value(self, data):
        return clean_tagline(super().to_internal_value(data))


class UserProfileSerializer(serializers.ModelSerializer):
    """Everything in a profile: what its owner reads and writes."""

    class Meta:
        model = UserProfile
        fields = [
            "display_name",
            "bio",
            "journaling_frequency",
            "avatar_url",
            "banner_url",
            "theme_color",
            "profile_music_url",
            "profile_music_provider",
            "location",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class PublicProfileSerializer(serializers.ModelSerializer):
    """The part of a profile anyone signed in may see."""

    class Meta:
        model = UserProfile
        fields = [
            "display_name",
            "bio",
            "avatar_url",
            "banner_url",
            "theme_color",
            "profile_music_url",
            "profile_music_provider",
            "location",
        ]
        read_only_fields = fields


class ProfileListSerializer(PublicProfileSerializer):
    class Meta(PublicProfileSerializer.Meta):
        fields = ["user", *PublicProfileSerializer.Meta.fields]
        read_only_fields = fields


class PublicUserSerializer(serializers.ModelSerializer):
    """A user as others see them. Needs ``select_related("profile")`` and
    ``tag_badge_grants`` prefetched (``UserViewSet.get_queryset``)."""

    profile = PublicProfileSerializer(read_only=True, allow_null=True)
    tag_badges = TagBadgeSerializer(
        source="tag_badge_grants", many=True, read_only=True
    )

    class Meta:
        model = User
        fields = ["id", "username", "tagline", "profile", "tag_badges"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    """The signed-in user's own account: tagline and profile are writable."""

    tagline = TaglineField(required=False)
    profile = UserProfileSerializer(required=False, allow_null=True)
    tag_badges = TagBadgeSerializer(
        source="tag_badge_grants", many=True, read_only=True
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "tagline",
            "created_at",
            "profile",
            "tag_badges",
        ]
        read_only_fields = ["id", "username", "email", "created_at"]


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]
        read_only_fields = fields


class PostSerializer(serializers.ModelSerializer):
    """Needs ``select_related("author")``."""

    author = AuthorSerializer(read_only=True)

    class Meta:
        model = Post
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class ReactedPostSerializer(PostSerializer):
    reacted_at = serializers.DateTimeField(read_only=True)

    class Meta(PostSerializer.Meta):
        fields = [*PostSerializer.Meta.fields, "reacted_at"]


class ReactionSerializer(serializers.ModelSerializer):
    user = serializers.HiddenField(default=serializers.CurrentUserDefault())
    user_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Reaction
        fields = ["id", "user", "user_id", "post", "kind", "created_at"]
        read_only_fields = ["id", "created_at"]


class HighlightSerializer(serializers.ModelSerializer):
    """Needs ``select_related("post__author")``."""

    post = PostSerializer(read_only=True)

    class Meta:
        model = UserHighlight
        fields = ["position", "post", "created_at"]
        read_only_fields = fields


class HighlightCreateSerializer(serializers.Serializer):
    post_id = serializers.PrimaryKeyRelatedField(
        queryset=Post.objects.all(), source="post"
    )


class HighlightOrderSerializer(serializers.Serializer):
    post_ids = serializers.ListField(
        child=serializers.IntegerField(**POSITIVE_BIGINT),
        max_length=MAX_HIGHLIGHTS,
        help_text="Every highlighted post id, once each, in the new order.",
    )


class StatsSerializer(serializers.Serializer):
    posts = serializers.IntegerField()
    reactions_given = serializers.IntegerField()
    reactions_received = serializers.IntegerField()
    highlights = serializers.IntegerField()
    badges = serializers.IntegerField()
    computed_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class UserStatsCacheSerializer(serializers.ModelSerializer):
    class Meta:
        model = UserStatsCache
        fields = ["id", "user", "stats_json", "computed_at", "expires_at"]
        read_only_fields = fields


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(
        max_length=254, help_text="Your username or your email address."
    )
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )

    def validate(self, attrs):
        user = authenticate(
            self.context.get("request"),
            username=attrs["username"],
            password=attrs["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                "Unable to log in with these credentials.", code="authorization"
            )
        return {"user": user}


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text='Send as "Authorization: Token <token>" on every request.'
    )
