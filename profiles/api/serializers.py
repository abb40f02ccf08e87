from django.contrib.auth import password_validation
from rest_framework import serializers

from badges.api.serializers import TagBadgeSerializer
from config.api.lean import Convert, Optional, Shape
from config.api.serializers import (
    BlankIsNullCharField,
    ModelSerializer,
    Serializer,
    VisiblePrimaryKeyField,
)
from profiles.models import (
    MAX_HIGHLIGHTS,
    Post,
    Reaction,
    User,
    UserHighlight,
    UserProfile,
    UserStatsCache,
    tag_badges,
)
from profiles.validators import TAGLINE_MAX_LENGTH, clean_tagline

POSITIVE_BIGINT = {"min_value": 1, "max_value": 2**63 - 1}

# What anyone signed in may see of a profile; its owner also sees the rest.
PUBLIC_PROFILE_FIELDS = [
    "display_name",
    "bio",
    "avatar_url",
    "banner_url",
    "theme_color",
    "profile_music_url",
    "profile_music_provider",
    "location",
]


class TaglineSerializerField(BlankIsNullCharField):
    """The tagline rule of ``clean_tagline``; its problems become 400s.

    ``max_length`` puts ``maxLength: 48`` in the schema; it is checked after
    normalisation (NFC can shorten text), as PostgreSQL counts: code points.
    Blank text, whitespace included, is no tagline (None), as ``null`` is.
    """

    def __init__(self, **kwargs):
        super().__init__(
            allow_null=True,
            allow_blank=True,
            trim_whitespace=False,
            max_length=TAGLINE_MAX_LENGTH,
            **kwargs,
        )

    def to_internal_value(self, data):
        return clean_tagline(super().to_internal_value(data))


class UserProfileSerializer(ModelSerializer):
    """Everything in a profile: what its owner reads and writes."""

    class Meta:
        model = UserProfile
        fields = [
            *PUBLIC_PROFILE_FIELDS,
            "journaling_frequency",
            "created_at",
            "updated_at",
        ]


class PublicProfileSerializer(ModelSerializer):
    """The part of a profile anyone signed in may see."""

    class Meta:
        model = UserProfile
        fields = PUBLIC_PROFILE_FIELDS
        read_only_fields = fields


class ProfileListSerializer(ModelSerializer):
    class Meta:
        model = UserProfile
        fields = ["user_id", *PUBLIC_PROFILE_FIELDS]
        read_only_fields = fields


class PublicUserSerializer(ModelSerializer):
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


class MeSerializer(ModelSerializer):
    """The signed-in user's own account: tagline and profile are writable.

    ``"profile": null`` deletes the profile; an object creates it or changes
    the fields it names."""

    tagline = TaglineSerializerField(required=False)
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


def _password_min_length() -> int | None:
    """The minimum length ``AUTH_PASSWORD_VALIDATORS`` sets, for the schema."""
    for validator in password_validation.get_default_password_validators():
        if isinstance(validator, password_validation.MinimumLengthValidator):
            return validator.min_length
    return None


class RegisterSerializer(Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        min_length=_password_min_length(),
        max_length=4096,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Checked by the server's password rules (length, not too "
        "common, not all digits, not like the username or email).",
    )
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        required=False,
        help_text="Letters, digits and @ . + - _; made from the email address "
        "when left out.",
    )
    id = serializers.UUIDField(read_only=True)
    token = serializers.CharField(
        read_only=True,
        help_text='Send it as "Authorization: Token <token>" on every request.',
    )


class AuthorSerializer(ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]
        read_only_fields = fields


class PostSerializer(ModelSerializer):
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


class ReactionSerializer(ModelSerializer):
    post_id = VisiblePrimaryKeyField(
        queryset=Post.objects.all(), visible=Post.objects.shown_to, source="post"
    )

    class Meta:
        model = Reaction
        fields = ["id", "user_id", "post_id", "kind", "created_at"]
        read_only_fields = ["id", "user_id", "created_at"]


class HighlightSerializer(ModelSerializer):
    """Needs ``select_related("post__author")``."""

    post = PostSerializer(read_only=True)

    class Meta:
        model = UserHighlight
        fields = ["position", "post", "created_at"]
        read_only_fields = fields


def _highlightable(reader):
    return Post.objects.shown_to(reader).select_related("author")  # for HIGHLIGHT


class HighlightCreateSerializer(Serializer):
    post_id = VisiblePrimaryKeyField(
        queryset=Post.objects.all(), visible=_highlightable, source="post"
    )


class HighlightOrderSerializer(Serializer):
    post_ids = serializers.ListField(
        child=serializers.IntegerField(**POSITIVE_BIGINT),
        max_length=MAX_HIGHLIGHTS,
        help_text="Every highlighted post id, once each, in the new order.",
    )


class StatsSerializer(Serializer):
    posts = serializers.IntegerField()
    reactions_given = serializers.IntegerField()
    reactions_received = serializers.IntegerField()
    highlights = serializers.IntegerField()
    badges = serializers.IntegerField()
    computed_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class UserStatsCacheSerializer(ModelSerializer):
    class Meta:
        model = UserStatsCache
        fields = ["user_id", "stats_json", "computed_at", "expires_at"]
        read_only_fields = fields


# --- the lean read path's shapes (config/api/lean.py) -------------------------------
# Each is the output of the serializer named beside it, from .values() rows;
# tests/profiles/test_api.py compares the two.


def _post(prefix: str = "") -> dict:
    """``PostSerializer``'s shape, from columns under ``prefix``."""
    return {
        "id": f"{prefix}id",
        "author": {"id": f"{prefix}author_id", "username": f"{prefix}author__username"},
        "body": f"{prefix}body",
        "created_at": f"{prefix}created_at",
    }


POST = Shape(_post())  # PostSerializer
REACTED_POST = Shape({**_post(), "reacted_at": "reacted_at"})  # ReactedPostSerializer
HIGHLIGHT = Shape(  # HighlightSerializer
    {"position": "position", "post": _post("post__"), "created_at": "created_at"}
)
_TAG_BADGES = Convert("tag_badges_json", tag_badges)
PUBLIC_USER = Shape(  # PublicUserSerializer, from User.objects.with_tag_badges_json()
    {
        "id": "id",
        "username": "username",
        "tagline": "tagline",
        "profile": Optional(
            "profile__user", {f: f"profile__{f}" for f in PUBLIC_PROFILE_FIELDS}
        ),
        "tag_badges": _TAG_BADGES,
    }
)
ME = Shape(  # MeSerializer, from User.objects.with_tag_badges_json()
    {
        "id": "id",
        "username": "username",
        "email": "email",
        "tagline": "tagline",
        "created_at": "created_at",
        "profile": Optional(
            "profile__user",
            {f: f"profile__{f}" for f in UserProfileSerializer.Meta.fields},
        ),
        "tag_badges": _TAG_BADGES,
    }
)
