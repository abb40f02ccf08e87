"""Serializers of the wellness API, and the lean shapes of its lists
(``config.api.lean``: a test checks each shape gives its serializer's body)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from config.api.lean import Convert, Shape
from config.api.serializers import JSONObjectField, ModelSerializer, Serializer
from wellness.models import (
    TAG_NAME_LENGTH,
    VECTOR_MAX_LENGTH,
    Garden,
    Habit,
    MatchResult,
    Story,
    Tag,
    UserFeature,
    UserTag,
    validate_vector,
)
from wellness.services import MAX_STORY_TAGS


class TagNameField(serializers.CharField):
    """A tag's name as given: the services trim it and make it lower case."""

    def __init__(self, **kwargs):
        # Room for the spaces a name may come with; the trimmed name must fit.
        kwargs.setdefault("max_length", 4 * TAG_NAME_LENGTH)
        super().__init__(**kwargs)


class TagSerializer(ModelSerializer):
    name = TagNameField(help_text="Trimmed and stored in lower case; unique.")

    class Meta:
        model = Tag
        fields = ["id", "name", "created_at"]
        read_only_fields = ["id", "created_at"]


class UserSummarySerializer(ModelSerializer):
    class Meta:
        model = get_user_model()
        fields = ["id", "username"]
        read_only_fields = fields


class UserTagSerializer(ModelSerializer):
    """A user's interest in a tag; the key is the pair (``user_id``,
    ``tag_id``). Created by the tag's name (``tag``)."""

    user_id = serializers.UUIDField(read_only=True)
    tag_id = serializers.IntegerField(read_only=True)
    tag = TagNameField(
        write_only=True, help_text="The tag's name; a new name makes a new tag."
    )
    tag_name = serializers.CharField(source="tag.name", read_only=True)

    class Meta:
        model = UserTag
        fields = ["user_id", "tag_id", "tag_name", "tag"]


USER_TAG = Shape({"user_id": "user_id", "tag_id": "tag_id", "tag_name": "tag__name"})


class InterestSerializer(Serializer):
    tag = TagNameField(help_text="The tag's name.")


class StorySerializer(ModelSerializer):
    """A story; ``tags`` are names (trimmed, lower case, each once), and the
    tags are created as needed."""

    user_id = serializers.UUIDField(read_only=True)
    tags = serializers.ListField(
        child=TagNameField(),
        source="tags_cached",
        required=False,
        max_length=MAX_STORY_TAGS,
        help_text=f"Tag names, at most {MAX_STORY_TAGS}.",
    )

    class Meta:
        model = Story
        fields = [
            "id",
            "user_id",
            "title",
            "content",
            "visibility",
            "tags",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "user_id", "created_at", "updated_at"]

    def to_representation(self, instance):
        body = super().to_representation(instance)
        body["tags"] = body["tags"] or []
        return body


STORY = Shape.of(StorySerializer, {"tags": Convert("tags_cached", lambda v: v or [])})


class HabitSerializer(ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    meta = JSONObjectField(
        required=False, help_text='Free-form details, a JSON object: {"minutes": 10}.'
    )

    class Meta:
        model = Habit
        fields = ["id", "user_id", "name", "frequency", "meta", "created_at"]
        read_only_fields = ["id", "user_id", "created_at"]
        validators = []  # the user's unique names: wellness.services


class GardenSerializer(ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Garden
        fields = ["id", "user_id", "name", "theme", "created_at"]
        read_only_fields = ["id", "user_id", "created_at"]


class UserFeatureSerializer(ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    vector = serializers.ListField(
        child=serializers.FloatField(),
        min_length=1,
        max_length=VECTOR_MAX_LENGTH,
        help_text=f"1 to {VECTOR_MAX_LENGTH} finite numbers.",
    )
    version = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text="The feature schema that made the vector; only vectors of "
        "one version (and length) are compared.",
    )

    class Meta:
        model = UserFeature
        fields = ["user_id", "vector", "version", "updated_at"]
        read_only_fields = ["user_id", "updated_at"]

    def validate_vector(self, value):
        validate_vector(value)
        return value


class MatchResultSerializer(ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    target_user_id = serializers.UUIDField(read_only=True)
    target_user = UserSummarySerializer(read_only=True)

    class Meta:
        model = MatchResult
        fields = [
            "id",
            "user_id",
            "target_user_id",
            "target_user",
            "score",
            "created_at",
        ]
        read_only_fields = fields


MATCH_RESULT = Shape(
    {
        "id": "id",
        "user_id": "user_id",
        "target_user_id": "target_user_id",
        "target_user": {"id": "target_user_id", "username": "target_user__username"},
        "score": "score",
        "created_at": "created_at",
    }
)
TAG = Shape.of(TagSerializer)
HABIT = Shape.of(HabitSerializer)
GARDEN = Shape.of(GardenSerializer)
# jsonb keeps 1e20 as the number 100000000000000000000, which reads back as
# an int: a vector answers floats, as it was sent.
USER_FEATURE = Shape.of(
    UserFeatureSerializer,
    {"vector": Convert("vector", lambda vector: [float(x) for x in vector])},
)
