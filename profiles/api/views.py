from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from config import privacy
from config.api.permissions import IsOwnerOrReadOnly
from config.api.throttling import PasswordThrottle
from config.api.views import (
    LeanListMixin,
    LeanRetrieveMixin,
    UserScopedListViewSet,
    user_or_404,
)
from profiles import services, stats
from profiles.api.filters import PostFilter, ReactionFilter, UserFilter
from profiles.api.serializers import (
    HIGHLIGHT,
    ME,
    POST,
    PUBLIC_USER,
    REACTED_POST,
    HighlightCreateSerializer,
    HighlightOrderSerializer,
    HighlightSerializer,
    MeSerializer,
    PostSerializer,
    ProfileListSerializer,
    PublicUserSerializer,
    ReactedPostSerializer,
    ReactionSerializer,
    RegisterSerializer,
    StatsSerializer,
    UserStatsCacheSerializer,
)
from profiles.models import (
    Post,
    Reaction,
    User,
    UserHighlight,
    UserProfile,
    UserStatsCache,
)


class RegisterView(generics.GenericAPIView):
    """Create an account with an email address and a password; the answer
    carries an API token for it. Rate-limited like the token endpoint."""

    serializer_class = RegisterSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = [PasswordThrottle]

    @extend_schema(responses={201: RegisterSerializer})
    def post(self, request):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        token = Token.objects.create(user=user)
        body = {"id": user.pk, "username": user.username, "email": user.email}
        return Response(
            self.get_serializer({**body, "token": token.key}).data,
            status=status.HTTP_201_CREATED,
        )


class UserViewSet(LeanRetrieveMixin, viewsets.ReadOnlyModelViewSet):
    """Active users, with their public fields only; without users you
    blocked or who blocked you (a 404, as a user who does not exist)."""

    queryset = User.objects.filter(is_active=True).with_tag_badges_json()
    serializer_class = PublicUserSerializer
    shape = PUBLIC_USER
    filterset_class = UserFilter
    lookup_url_kwarg = "user_id"
    ordering_fields = ["username"]
    ordering = ["username"]

    def get_queryset(self):
        return self.queryset.exclude(privacy.hidden("pk", self.request.user))

    @extend_schema(responses=StatsSerializer, filters=False)
    @action(detail=True, filter_backends=[], pagination_class=None)
    def stats(self, request, user_id=None):
        """Counts of the user's posts, reactions given and received, highlights
        and badges; cached for ``PROFILE_STATS_TTL`` seconds."""
        user_or_404(user_id, request.user)
        # stats_get's dict is StatsSerializer's output already (the renderer
        # formats its dates); a test compares the two.
        return Response(stats.stats_get(user_id))


class UserHighlightViewSet(UserScopedListViewSet):
    """A user's highlighted posts, in their order: all of them (at most 128),
    not paginated."""

    queryset = UserHighlight.objects.none()
    serializer_class = HighlightSerializer
    pagination_class = None
    filter_backends = []

    def list(self, request, user_id):
        me = request.user
        rows = list(
            UserHighlight.objects.filter(user_id=user_id, user__is_active=True)
            .exclude(privacy.hidden("user", me))
            .exclude(privacy.hidden("post__author", me))
            .order_by("position")
            .values(*HIGHLIGHT.columns)
        )
        if not rows:
            self.user_or_404()
        return HIGHLIGHT.response(rows)


class ReactedPostViewSet(UserScopedListViewSet):
    """The lightning tab: posts the user reacted to, newest reaction first,
    drawn from the user's last 8192 reactions (without posts of users you
    blocked or who blocked you)."""

    queryset = Post.objects.none()
    serializer_class = ReactedPostSerializer
    filter_backends = []

    def list(self, request, user_id):
        def fetch(position, reverse, limit):
            return Reaction.objects.reacted_posts(
                user_id,
                reader=request.user,
                position=position,
                reverse=reverse,
                limit=limit,
            )

        rows = self.paginator.paginate_rows(
            fetch, ["-reacted_at", "-reaction_id"], request
        )
        if not rows:
            self.user_or_404()
        return self.get_paginated_response([REACTED_POST.build(row) for row in rows])


class MeViewSet(viewsets.GenericViewSet):
    """The signed-in user's own account and profile."""

    serializer_class = MeSerializer

    def me(self) -> Response:
        users = User.objects.filter(pk=self.request.user.pk).with_tag_badges_json()
        return Response(ME.build(users.values(*ME.columns).get()))

    def retrieve(self, request):
        return self.me()

    def partial_update(self, request):
        serializer = self.get_serializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.profile_update(user=request.user, **serializer.validated_data)
        return self.me()


class MyHighlightViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The signed-in user's highlights: add (at the end), remove, reorder.
    Your own list stays whole, posts of users you blocked (or who blocked
    you) too: a reorder names every highlight."""

    serializer_class = HighlightSerializer
    lookup_field = "post_id"
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return UserHighlight.objects.filter(user=self.request.user).order_by("position")

    def list(self, request):
        return HIGHLIGHT.response(self.get_queryset().values(*HIGHLIGHT.columns))

    @extend_schema(request=HighlightCreateSerializer, responses=HighlightSerializer)
    def create(self, request):
        data = HighlightCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        data.is_valid(raise_exception=True)
        highlight = services.highlight_add(
            user=request.user, post=data.validated_data["post"]
        )
        return Response(
            self.get_serializer(highlight).data, status=status.HTTP_201_CREATED
        )

    def destroy(self, request, post_id):
        try:
            services.highlight_remove(user=request.user, post_id=post_id)
        except UserHighlight.DoesNotExist:
            raise NotFound("This post is not in your highlights.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=HighlightOrderSerializer, responses=HighlightSerializer(many=True)
    )
    @action(detail=False, methods=["put"], url_path="order", pagination_class=None)
    def order(self, request):
        """Reorder: send every highlighted post id once, in the new order."""
        data = HighlightOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        highlights = services.highlights_reorder(
            user=request.user, post_ids=data.validated_data["post_ids"]
        )
        return Response(self.get_serializer(highlights, many=True).data)


class PostViewSet(LeanListMixin, viewsets.ModelViewSet):
    """Posts, newest first, without those of users you blocked or who
    blocked you. Anyone signed in reads; only the author edits or deletes."""

    queryset = Post.objects.select_related("author")
    serializer_class = PostSerializer
    shape = POST
    permission_classes = [permissions.IsAuthenticated, IsOwnerOrReadOnly]
    owner_field = "author_id"
    lookup_url_kwarg = "post_id"
    filterset_class = PostFilter
    ordering_fields = ["id", "created_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return self.queryset.shown_to(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.post_create(
            author=self.request.user, **serializer.validated_data
        )


class ReactionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Reactions to posts. Anyone signed in reads, without reactions of users
    you blocked or who blocked you, or to their posts; users add and remove
    their own."""

    queryset = Reaction.objects.all()
    serializer_class = ReactionSerializer
    permission_classes = [permissions.IsAuthenticated, IsOwnerOrReadOnly]
    owner_field = "user_id"
    lookup_url_kwarg = "reaction_id"
    filterset_class = ReactionFilter
    ordering_fields = ["id"]
    ordering = ["-id"]

    def get_queryset(self):
        me = self.request.user
        return self.queryset.exclude(privacy.hidden("user", me)).exclude(
            privacy.hidden("post__author", me)
        )

    def perform_create(self, serializer):
        serializer.instance = services.reaction_add(
            user=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.reaction_remove(reaction=instance)


class UserProfileViewSet(viewsets.ReadOnlyModelViewSet):
    """Public profiles of active users, without users you blocked or who
    blocked you (edit your own at ``me/``)."""

    queryset = UserProfile.objects.filter(user__is_active=True)
    serializer_class = ProfileListSerializer
    lookup_url_kwarg = "user_id"
    ordering_fields = ["user_id"]
    ordering = ["user_id"]

    def get_queryset(self):
        return self.queryset.exclude(privacy.hidden("user", self.request.user))


class UserStatsCacheViewSet(viewsets.ReadOnlyModelViewSet):
    """Staff only: the stats fallback table (filled while Redis is down)."""

    queryset = UserStatsCache.objects.all()
    serializer_class = UserStatsCacheSerializer
    permission_classes = [permissions.IsAdminUser]
    lookup_field = "user_id"
    ordering_fields = ["expires_at"]
    ordering = ["expires_at"]
