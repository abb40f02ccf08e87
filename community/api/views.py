"""The community directory's API, for staff and service accounts (the bot):
every verb needs the table's model permission (``config.api.permissions.
ModelPermissions``). Writes with rules go through ``community.services``;
lists and single rows are read on the lean path."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from community import services
from community.api import filters
from community.api.serializers import (
    PRIVATE_FIELDS,
    DailyHighlightBuildSerializer,
    DailyHighlightSerializer,
    GitHubVerificationSerializer,
    InvitationAcceptSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MemberSerializer,
    MemberUpdateSerializer,
    MemberWriteSerializer,
    ParticipationBatchResultSerializer,
    ParticipationBatchSerializer,
    ParticipationEventSerializer,
    ParticipationSerializer,
    RelationshipSerializer,
    ReputationChangeSerializer,
)
from community.models import (
    CommunityInvitation,
    CommunityMember,
    MemberDailyHighlight,
    MemberParticipation,
    MemberRelationship,
)
from config.api.lean import Convert, Shape
from config.api.permissions import ModelPermissions
from config.api.views import LeanRetrieveMixin

MEMBER_SHAPE = Shape.of(MemberSerializer, {"invited_by": "invited_by_id"})
# Telegram ids and GitHub data are null for readers who may not see them.
PUBLIC_MEMBER_SHAPE = Shape.of(
    MemberSerializer,
    {
        "invited_by": "invited_by_id",
        **{name: Convert(name, lambda value: None) for name in PRIVATE_FIELDS},
    },
)
INVITATION_SHAPE = Shape.of(
    InvitationSerializer,
    {"created_by": "created_by_id", "accepted_by": "accepted_by_id"},
)
RELATIONSHIP_SHAPE = Shape.of(RelationshipSerializer)
PARTICIPATION_SHAPE = Shape.of(ParticipationSerializer)
DAILY_HIGHLIGHT_SHAPE = Shape.of(DailyHighlightSerializer)


def _sees_private_data(user) -> bool:
    """Staff and holders of ``community.view_private_data`` (service accounts)."""
    return user.is_staff or user.has_perm("community.view_private_data")


class CommunityViewSet(LeanRetrieveMixin, viewsets.GenericViewSet):
    """List and retrieve on the lean path, for staff and service accounts."""

    permission_classes = [ModelPermissions]
    change_actions: tuple[str, ...] = ()


class MemberViewSet(
    CommunityViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    """Members of the directory, by their ``member_id`` (``/247/`` or
    ``/%23247/``). Deleting is soft: the member disappears from the API and
    ``restore`` brings them back. Telegram ids and GitHub data show to staff
    and to holders of ``community.view_private_data``; others read them as
    null, and may not filter by them."""

    queryset = CommunityMember.objects.all()
    lookup_field = "member_id"
    lookup_value_converter = "member_id"
    filterset_class = filters.MemberFilter
    ordering_fields = ["reputation_score", "created_at"]
    ordering = ["-reputation_score"]
    change_actions = ("restore", "verify_github", "reputation")

    @property
    def shape(self) -> Shape:
        if _sees_private_data(self.request.user):
            return MEMBER_SHAPE
        return PUBLIC_MEMBER_SHAPE

    def get_queryset(self):
        if self.action == "restore":
            return CommunityMember.all_objects.deleted()
        return super().get_queryset()

    def get_serializer_class(self):
        if self.action == "create":
            return MemberWriteSerializer
        if self.action in ("update", "partial_update"):
            return MemberUpdateSerializer
        return MemberSerializer

    def filter_queryset(self, queryset):
        private = [name for name in PRIVATE_FIELDS if name in self.request.query_params]
        if private and not _sees_private_data(self.request.user):
            raise exceptions.PermissionDenied(
                f"Filtering by {', '.join(private)} needs the permission "
                "to see Telegram ids and GitHub data."
            )
        return super().filter_queryset(queryset)

    @extend_schema(request=MemberWriteSerializer, responses={201: MemberSerializer})
    def create(self, request, *args, **kwargs):
        data = MemberWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_create(**data.validated_data)
        return self.lean_response(member, status.HTTP_201_CREATED)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        member = self.get_object()
        data = MemberUpdateSerializer(member, data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.member_update(member=member, **data.validated_data)
        return self.lean_response(member)

    @extend_schema(request=MemberUpdateSerializer, responses=MemberSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.member_delete(member=instance)

    @extend_schema(request=None, responses=MemberSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, member_id):
        """Bring back a deleted member."""
        member = services.member_restore(member=self.get_object())
        return self.lean_response(member)

    @extend_schema(request=GitHubVerificationSerializer, responses=MemberSerializer)
    @action(detail=True, methods=["post"], url_path="verify-github")
    def verify_github(self, request, member_id):
        """Record the outcome of a GitHub check made elsewhere."""
        data = GitHubVerificationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_github_verify(
            member=self.get_object(),
            github_username=data.validated_data["github_username"],
            verified=data.validated_data["github_verified"],
            profile_data=data.validated_data.get("github_profile_data"),
        )
        return self.lean_response(member)

    @extend_schema(request=ReputationChangeSerializer, responses=MemberSerializer)
    @action(detail=True, methods=["post"])
    def reputation(self, request, member_id):
        """Add to (or take from) the member's reputation; the tier follows."""
        data = ReputationChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_reputation_change(
            member=self.get_object(), **data.validated_data
        )
        return self.lean_response(member)


class InvitationViewSet(
    CommunityViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    """Invitation codes. They are accepted by code (``accept``), revoked while
    pending (``revoke``), and expire on their own; they are never edited."""

    queryset = CommunityInvitation.objects.all()
    serializer_class = InvitationSerializer
    shape = INVITATION_SHAPE
    lookup_url_kwarg = "invitation_id"
    filterset_class = filters.InvitationFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]
    change_actions = ("accept", "revoke")

    @extend_schema(
        request=InvitationCreateSerializer, responses={201: InvitationSerializer}
    )
    def create(self, request, *args, **kwargs):
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(**data.validated_data)
        return self.lean_response(invitation, status.HTTP_201_CREATED)

    @extend_schema(request=InvitationAcceptSerializer, responses=InvitationSerializer)
    @action(detail=False, methods=["post"])
    def accept(self, request):
        """Accept an invitation by its code for a Telegram user, who becomes a
        member (created from ``name`` and ``primary_role`` when new). A 400
        says why a code cannot be used: ``does_not_exist``, ``used``,
        ``revoked``, ``expired``, ``wrong_recipient``, ``already_member``."""
        data = InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_accept(**data.validated_data)
        return self.lean_response(invitation)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, invitation_id):
        """Withdraw a pending invitation."""
        invitation = services.invitation_revoke(invitation=self.get_object())
        return self.lean_response(invitation)


class RelationshipViewSet(CommunityViewSet, viewsets.ModelViewSet):
    """Who did what to whom: ``INVITED`` rows come from accepted invitations;
    the bot records the others. ``?entity_id=`` finds either side."""

    queryset = MemberRelationship.objects.all()
    serializer_class = RelationshipSerializer
    shape = RELATIONSHIP_SHAPE
    lookup_url_kwarg = "member_relationship_id"
    filterset_class = filters.RelationshipFilter
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]


class ParticipationViewSet(
    CommunityViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    """What members did, newest first: one event per POST, or up to 1000 in
    one ``batch``. Events are never edited."""

    queryset = MemberParticipation.objects.all()
    serializer_class = ParticipationSerializer
    shape = PARTICIPATION_SHAPE
    lookup_url_kwarg = "member_participation_id"
    filterset_class = filters.ParticipationFilter
    ordering_fields = ["occurred_at"]
    ordering = ["-occurred_at"]

    def _record(self, events: list[dict]) -> list[dict]:
        rows = services.participation_record(events=events)
        return ParticipationSerializer(rows, many=True).data

    @extend_schema(
        request=ParticipationEventSerializer, responses={201: ParticipationSerializer}
    )
    def create(self, request, *args, **kwargs):
        data = ParticipationBatchSerializer(data={"events": [request.data]})
        try:
            data.is_valid(raise_exception=True)
        except exceptions.ValidationError as error:  # errors of the one event
            raise exceptions.ValidationError(error.detail["events"][0]) from None
        (event,) = self._record(data.validated_data["events"])
        return Response(event, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ParticipationBatchSerializer,
        responses={201: ParticipationBatchResultSerializer},
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """Record many events at once, all or none: a 400 names each bad event
        by its index (``events.3.member_id``)."""
        data = ParticipationBatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        events = self._record(data.validated_data["events"])
        return Response({"events": events}, status=status.HTTP_201_CREATED)


class DailyHighlightViewSet(
    CommunityViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """Each member's participation per day (UTC), summed by ``build`` (or
    ``manage.py community_daily_highlights``, daily from cron)."""

    queryset = MemberDailyHighlight.objects.all()
    serializer_class = DailyHighlightSerializer
    shape = DAILY_HIGHLIGHT_SHAPE
    lookup_url_kwarg = "member_daily_highlight_id"
    filterset_class = filters.DailyHighlightFilter
    ordering_fields = ["highlight_date"]
    ordering = ["-highlight_date"]
    change_actions = ("build",)  # it rewrites a day's rows

    @extend_schema(
        request=DailyHighlightBuildSerializer, responses=DailyHighlightBuildSerializer
    )
    @action(detail=False, methods=["post"])
    def build(self, request):
        """Sum up one day again; running it twice gives the same rows."""
        data = DailyHighlightBuildSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        day = data.validated_data["highlight_date"]
        members = services.daily_highlights_build(day=day)
        return Response({"highlight_date": day, "members": members})
