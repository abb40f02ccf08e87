"""The wellness API. Tags and interests are shared (anyone signed in reads
them; tags are changed by staff, interests by their user); a story is read
as its visibility allows and changed by its author; habits, gardens,
feature vectors and matches are their user's alone: another user's are 404
on every verb. Users you blocked, or who blocked you, are left out of
interests, stories and matches (docs/design.md#blocks)."""

from django.db.models import OuterRef, Q, Subquery
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from config import privacy
from config.api.permissions import IsOwnerOrReadOnly, ReadOnlyOrModelPermissions
from config.api.views import (
    LeanListMixin,
    LeanRetrieveMixin,
    OwnRowsMixin,
    UserScopedListViewSet,
)
from wellness import matching, services
from wellness.api.filters import HabitFilter, StoryFilter, TagFilter, UserTagFilter
from wellness.api.serializers import (
    GARDEN,
    HABIT,
    MATCH_RESULT,
    STORY,
    TAG,
    USER_FEATURE,
    USER_TAG,
    GardenSerializer,
    HabitSerializer,
    InterestSerializer,
    MatchResultSerializer,
    StorySerializer,
    TagSerializer,
    UserFeatureSerializer,
    UserTagSerializer,
)
from wellness.models import (
    Garden,
    Habit,
    MatchResult,
    Story,
    Tag,
    UserFeature,
    UserTag,
    Visibility,
)


class TagViewSet(LeanRetrieveMixin, viewsets.ModelViewSet):
    """The shared tags, by name (``?name=``). Anyone signed in reads them;
    adding, renaming and deleting needs the model permission (staff).
    Renaming or deleting a tag renames or removes it in every story."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    shape = TAG
    permission_classes = [permissions.IsAuthenticated, ReadOnlyOrModelPermissions]
    lookup_url_kwarg = "tag_id"
    filterset_class = TagFilter
    ordering_fields = ["name"]
    ordering = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.tag_create(**serializer.validated_data)

    def perform_update(self, serializer):
        if "name" in serializer.validated_data:  # a PATCH may leave it out
            services.tag_rename(tag=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.tag_delete(tag=instance)


class UserTagViewSet(LeanListMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Users' interests: who is interested in what (``?tag=<name>``: the
    users with that tag; ``?user_id=``: a user's tags). You add a tag to
    your own interests by its name (a new name makes a new tag) and remove
    one with ``remove``."""

    queryset = UserTag.objects.filter(user__is_active=True)
    serializer_class = UserTagSerializer
    shape = USER_TAG
    filterset_class = UserTagFilter
    ordering = ["user_id", "tag_id"]
    ordering_fields = []

    def get_queryset(self):
        return self.queryset.exclude(privacy.hidden("user", self.request.user))

    def perform_create(self, serializer):
        serializer.instance = services.interest_add(
            user=self.request.user, **serializer.validated_data
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return self.lean_response(serializer.instance, status.HTTP_201_CREATED)

    @extend_schema(request=InterestSerializer, responses={204: None})
    @action(detail=False, methods=["post"])
    def remove(self, request):
        """Remove the tag of this name from your interests."""
        data = InterestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.interest_remove(user=request.user, **data.validated_data)
        except UserTag.DoesNotExist as error:
            raise NotFound(str(error)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(operation_id="wellness_user_tags_of_user_list"),
    retrieve=extend_schema(operation_id="wellness_user_tags_of_user_retrieve"),
    destroy=extend_schema(operation_id="wellness_user_tags_of_user_destroy"),
)
class UserInterestViewSet(
    LeanRetrieveMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    UserScopedListViewSet,
):
    """One user's interests, by tag name. Only the user deletes theirs
    (another user's are 404 to delete)."""

    queryset = UserTag.objects.all()
    serializer_class = UserTagSerializer
    shape = USER_TAG
    lookup_field = "tag_id"
    ordering = ["tag_id"]
    ordering_fields = []
    pagination_class = None  # at most MAX_INTERESTS rows

    def get_queryset(self):
        rows = UserTag.objects.filter(
            user_id=self.kwargs["user_id"], user__is_active=True
        ).exclude(privacy.hidden("user", self.request.user))
        if self.request.method not in permissions.SAFE_METHODS:
            rows = rows.filter(user=self.request.user)
        return rows

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        if not response.data:
            self.user_or_404()
        return response


class StoryViewSet(LeanRetrieveMixin, viewsets.ModelViewSet):
    """Stories, newest first: every public story, and your own of any
    visibility (``friends`` stories are their author's alone until the app
    has friendships), without those of users you blocked or who blocked
    you. Filter by ``?user_id=``, ``?visibility=``, ``?tag=``. Only the
    author changes or deletes a story."""

    queryset = Story.objects.all()
    serializer_class = StorySerializer
    shape = STORY
    permission_classes = [permissions.IsAuthenticated, IsOwnerOrReadOnly]
    owner_field = "user_id"
    lookup_url_kwarg = "story_id"
    filterset_class = StoryFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        me = self.request.user
        return Story.objects.filter(
            Q(visibility=Visibility.PUBLIC) | Q(user=me)
        ).exclude(privacy.hidden("user", me))

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.story_create(
            user=self.request.user, tags=data.pop("tags_cached", ()), **data
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        services.story_update(
            story=serializer.instance, tags=data.pop("tags_cached", None), **data
        )


class HabitViewSet(OwnRowsMixin, LeanRetrieveMixin, viewsets.ModelViewSet):
    """Your habits, by name (``?frequency=``). A name is unique among yours:
    a second habit of the same name is a 400 on ``name``."""

    queryset = Habit.objects.all()
    serializer_class = HabitSerializer
    shape = HABIT
    lookup_url_kwarg = "habit_id"
    filterset_class = HabitFilter
    ordering_fields = ["name"]
    ordering = ["name"]

    def perform_create(self, serializer):
        serializer.instance = services.habit_create(
            user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.habit_update(habit=serializer.instance, **serializer.validated_data)


class GardenViewSet(OwnRowsMixin, LeanRetrieveMixin, viewsets.ModelViewSet):
    """Your garden: you have at most one, so a second is a 400 and the
    first stays as it was."""

    queryset = Garden.objects.all()
    serializer_class = GardenSerializer
    shape = GARDEN
    lookup_url_kwarg = "garden_id"
    pagination_class = None  # one garden at most
    ordering = ["-created_at"]
    ordering_fields = []

    def perform_create(self, serializer):
        serializer.instance = services.garden_create(
            user=self.request.user, **serializer.validated_data
        )


class UserFeatureViewSet(OwnRowsMixin, LeanRetrieveMixin, viewsets.ModelViewSet):
    """Your feature vector for matching (one at most: change it with PUT or
    PATCH). ``updated_at`` moves with each change."""

    queryset = UserFeature.objects.all()
    serializer_class = UserFeatureSerializer
    shape = USER_FEATURE
    lookup_field = "user_id"
    pagination_class = None  # one vector at most
    ordering = ["-updated_at"]
    ordering_fields = []

    def perform_create(self, serializer):
        serializer.instance = services.features_create(
            user=self.request.user, **serializer.validated_data
        )


def latest_batch(user):
    """``user``'s matches of their latest batch, best first (the index on
    ``(user_id, score DESC)``), without users hidden from them."""
    latest = MatchResult.objects.filter(user=OuterRef("user")).order_by("-created_at")
    return (
        MatchResult.objects.filter(
            user=user, created_at=Subquery(latest.values("created_at")[:1])
        )
        .exclude(privacy.hidden("target_user", user))
        .order_by("-score", "id")
    )


class MatchResultViewSet(
    LeanRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Your matches from the latest run, best first: the users whose feature
    vectors are most like yours (cosine similarity, 0 to 1; only vectors of
    your version and length), without users you blocked or who blocked you.
    ``refresh`` runs the matching for you now."""

    queryset = MatchResult.objects.all()
    serializer_class = MatchResultSerializer
    shape = MATCH_RESULT
    lookup_url_kwarg = "match_result_id"
    pagination_class = None  # one batch: at most WELLNESS_MATCHES rows
    ordering = ["-score"]
    ordering_fields = []

    def get_queryset(self):
        me = self.request.user
        if self.action == "list":
            return latest_batch(me)
        return MatchResult.objects.filter(user=me).exclude(
            privacy.hidden("target_user", me)
        )

    @extend_schema(request=None, responses=MatchResultSerializer(many=True))
    @action(detail=False, methods=["post"])
    def refresh(self, request):
        """Compute your matches now; answers them as ``GET`` would."""
        matching.match([request.user])
        rows = self.lean_rows(latest_batch(request.user))
        return self.shape.response(rows)
