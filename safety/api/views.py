"""The safety API. Rooms: public ones are listed to everyone signed in,
private ones to their members only (404 for anyone else); a room's
messages to its current, unbanned members. Private messages, blocks,
presence heartbeats and locations are their user's; reports are their
reporter's and staff's; the moderation log is staff's and append-only.
Users hidden from the reader by a block, either way, are left out of
members, messages, presence and nearby users (docs/design.md#blocks)."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from config import privacy
from config.api.pagination import CursorPagination
from config.api.permissions import IsOwnerOrReadOnly, ModelPermissions
from config.api.views import LeanListMixin, OwnRowsMixin
from safety import services
from safety.api.filters import PresenceFilter, PrivateMessageFilter
from safety.api.serializers import (
    BLOCK,
    MEMBER,
    PRIVATE_MESSAGE,
    ROOM_MESSAGE,
    BlockSerializer,
    ChatRoomSerializer,
    HeartbeatSerializer,
    InviteSerializer,
    LocationSerializer,
    LocationSetSerializer,
    ModerationActionSerializer,
    NearbySerializer,
    PresenceSerializer,
    PrivateMessageSerializer,
    ReportSerializer,
    ReviewSerializer,
    RoleSerializer,
    RoomMemberSerializer,
    RoomMessageSerializer,
)
from safety.models import (
    Block,
    ChatRoom,
    ChatRoomMember,
    ChatRoomMessage,
    Location,
    ModerationAction,
    Presence,
    PrivateMessage,
    Report,
)


class ChatRoomViewSet(viewsets.ModelViewSet):
    """Rooms, newest first: public ones, and the private ones you are in.
    Creating one makes you its owner (``OWNR``); only the owner edits or
    deletes it. ``join`` a public room; ``leave`` one."""

    queryset = ChatRoom.objects.all()
    serializer_class = ChatRoomSerializer
    permission_classes = [permissions.IsAuthenticated, IsOwnerOrReadOnly]
    owner_field = "owner_id"
    lookup_url_kwarg = "room_id"
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return ChatRoom.objects.visible_to(self.request.user)

    def visible_room(self) -> ChatRoom:
        """The room of the URL for any member-to-be (the owner-only object
        permission is for changing the room itself)."""
        return services.visible_room(self.request.user, self.kwargs["room_id"])

    def perform_create(self, serializer):
        serializer.instance = services.room_create(
            owner=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=None, responses={201: RoomMemberSerializer})
    @action(detail=True, methods=["post"])
    def join(self, request, room_id):
        member = services.room_join(room=self.visible_room(), user=request.user)
        return Response(
            RoomMemberSerializer(member).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def leave(self, request, room_id):
        try:
            services.room_leave(room=self.visible_room(), user=request.user)
        except ChatRoomMember.DoesNotExist as error:
            raise NotFound(str(error)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomScopedMixin:
    def room(self) -> ChatRoom:
        return services.visible_room(self.request.user, self.kwargs["room_id"])


class MemberViewSet(
    RoomScopedMixin,
    LeanListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """A room's members (without users you blocked or who blocked you).
    The owner or a moderator adds one (``{"user_id"}``: how a private room is
    joined), bans or unbans one; the owner promotes to ``MOD`` or demotes to
    ``USER`` (``PATCH {"role"}``). A block shields nobody from the room's
    moderation: bans and roles reach every member."""

    queryset = ChatRoomMember.objects.all()
    serializer_class = RoomMemberSerializer
    shape = MEMBER
    lookup_field = "user_id"
    pagination_class = None  # at most SAFETY_ROOM_CAPACITY members (and the banned)
    ordering = ["joined_at"]
    ordering_fields = []

    def get_queryset(self):
        me = self.request.user
        members = ChatRoomMember.objects.filter(
            room_id=self.kwargs["room_id"], room__in=ChatRoom.objects.visible_to(me)
        ).select_related("user")
        if self.action in ("list", "retrieve"):
            return members.exclude(privacy.hidden("user", me))
        return members

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        if not response.data:
            self.room()  # 404 for a room you cannot see
        return response

    @extend_schema(request=InviteSerializer, responses={201: RoomMemberSerializer})
    def create(self, request, room_id):
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.active_user(data.validated_data["user_id"], request.user)
        member = services.room_invite(room=self.room(), by=request.user, user=user)
        return Response(
            RoomMemberSerializer(member).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=RoleSerializer, responses=RoomMemberSerializer)
    def partial_update(self, request, room_id, user_id):
        data = RoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_role_set(
            room=self.room(),
            by=request.user,
            member=self.get_object(),
            **data.validated_data,
        )
        return Response(RoomMemberSerializer(member).data)

    @extend_schema(request=None, responses=RoomMemberSerializer)
    @action(detail=True, methods=["post"])
    def ban(self, request, room_id, user_id):
        member = services.member_ban(
            room=self.room(), by=request.user, member=self.get_object()
        )
        return Response(RoomMemberSerializer(member).data)

    @extend_schema(request=None, responses=RoomMemberSerializer)
    @action(detail=True, methods=["post"])
    def unban(self, request, room_id, user_id):
        member = services.member_ban(
            room=self.room(), by=request.user, member=self.get_object(), banned=False
        )
        return Response(RoomMemberSerializer(member).data)


class RoomMessageViewSet(
    RoomScopedMixin, LeanListMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """A room's messages, newest first (cursor pages), for its current,
    unbanned members, without those of users you blocked or who blocked you
    (as the WebSocket); members post with ``{"message", "media_url"?}``, at
    most ``MESSAGE_RATE`` (with the private messages and the socket's sends)."""

    queryset = ChatRoomMessage.objects.all()
    serializer_class = RoomMessageSerializer
    shape = ROOM_MESSAGE
    throttle_scope = "messages"
    ordering = ["-created_at"]
    ordering_fields = []

    def get_queryset(self):
        return ChatRoomMessage.objects.readable_by(self.request.user).filter(
            room_id=self.kwargs["room_id"]
        )

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        if not response.data["results"]:
            services.reader(self.room(), request.user)  # 404, or 403 saying why
        return response

    @extend_schema(
        request=RoomMessageSerializer, responses={201: RoomMessageSerializer}
    )
    def create(self, request, room_id):
        data = RoomMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.room_message_post(
            room=self.room(), user=request.user, **data.validated_data
        )
        return Response(
            RoomMessageSerializer(message).data, status=status.HTTP_201_CREATED
        )


class PrivateMessageViewSet(
    LeanListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Messages you sent or received, newest first (``?with_user_id=``: one
    conversation); your history with a user you blocked, or who blocked
    you, stays yours. Sending to such a user is the 404 of a user who does
    not exist, and nothing is stored; sending is limited as room messages
    are (one bucket for both)."""

    queryset = PrivateMessage.objects.all()
    serializer_class = PrivateMessageSerializer
    shape = PRIVATE_MESSAGE
    throttle_scope = "messages"
    lookup_url_kwarg = "private_message_id"
    filterset_class = PrivateMessageFilter
    ordering = ["-created_at"]
    ordering_fields = []

    def get_queryset(self):
        me = self.request.user
        return PrivateMessage.objects.filter(Q(sender=me) | Q(recipient=me))

    def perform_create(self, serializer):
        data = serializer.validated_data
        recipient = services.active_user(data.pop("recipient_id"), self.request.user)
        serializer.instance = services.private_message_send(
            sender=self.request.user, recipient=recipient, **data
        )


class PresenceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Who is here: each user's last heartbeat, ``offline`` once older than
    ``SAFETY_PRESENCE_TTL`` (``?room_id=``: those in a room), without users
    you blocked or who blocked you; ``room_id`` only when you may see that
    room. ``heartbeat`` records yours."""

    queryset = Presence.objects.all()
    serializer_class = PresenceSerializer
    lookup_field = "user_id"
    filterset_class = PresenceFilter
    ordering = ["-last_seen_at"]
    ordering_fields = []

    def get_queryset(self):
        return Presence.objects.seen_by(self.request.user)

    @extend_schema(request=HeartbeatSerializer, responses=PresenceSerializer)
    @action(detail=False, methods=["post"])
    def heartbeat(self, request):
        data = HeartbeatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.presence_heartbeat(user=request.user, **data.validated_data)
        presence = Presence.objects.seen_by(request.user).get(user=request.user)
        return Response(PresenceSerializer(presence).data)


class ReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Reports: anyone signed in reports a user, a room or a message and
    sees their own; staff (``safety.view_report``) see all and ``review``
    them (``safety.change_report``): pending, reviewing, then resolved or
    dismissed."""

    queryset = Report.objects.all()
    serializer_class = ReportSerializer
    lookup_url_kwarg = "report_id"
    ordering = ["-created_at"]
    ordering_fields = []

    def get_queryset(self):
        if self.request.user.has_perm("safety.view_report"):
            return Report.objects.all()
        return Report.objects.filter(reporter=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.report_create(
            reporter=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=ReviewSerializer, responses=ReportSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, report_id):
        report = self.get_object()
        if not request.user.has_perm("safety.change_report"):
            self.permission_denied(request, "Only moderators review reports.")
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.report_review(
            report=report, moderator=request.user, **data.validated_data
        )
        return Response(ReportSerializer(report).data)


class BlockViewSet(
    LeanListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The users you blocked. ``POST {"blocked_id"}`` blocks one (again:
    no change); ``DELETE .../{blocked_id}/`` unblocks."""

    queryset = Block.objects.all()
    serializer_class = BlockSerializer
    shape = BLOCK
    lookup_field = "blocked_id"
    ordering = ["blocked_id"]
    ordering_fields = []

    def get_queryset(self):
        return Block.objects.filter(blocker=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.block(
            blocker=self.request.user, blocked=serializer.validated_data["blocked"]
        )

    def perform_destroy(self, instance):
        services.unblock(blocker=self.request.user, blocked_id=instance.blocked_id)


class ModerationActionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The moderation log, for staff (model permissions): each action with
    its moderator and reason. Append-only: no change or deletion here or in
    the admin."""

    queryset = ModerationAction.objects.all()
    serializer_class = ModerationActionSerializer
    permission_classes = [ModelPermissions]
    lookup_url_kwarg = "moderation_action_id"
    ordering = ["-created_at"]
    ordering_fields = []

    def perform_create(self, serializer):
        serializer.instance = services.moderation_action_create(
            moderator=self.request.user, **serializer.validated_data
        )


class LocationViewSet(OwnRowsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your approximate location: ``PUT`` a city (and neighbourhood,
    coordinates); only keyed hashes and coordinates rounded to ~1 km are
    stored. ``nearby``: users in your city, without those you blocked or
    who blocked you."""

    queryset = Location.objects.all()
    serializer_class = LocationSerializer
    pagination_class = None  # yours: one row at most
    ordering = ["-updated_at"]
    ordering_fields = []

    @extend_schema(request=LocationSetSerializer, responses=LocationSerializer)
    @action(detail=False, methods=["put"], url_path="me")
    def me(self, request):
        data = LocationSetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        location = services.location_set(user=request.user, **data.validated_data)
        return Response(LocationSerializer(location).data)

    @extend_schema(responses=NearbySerializer(many=True))
    @action(
        detail=False,
        methods=["get"],
        pagination_class=CursorPagination,
        filter_backends=[],  # ordered by user, for the cursor
    )
    def nearby(self, request):
        rows = services.nearby(request.user).values(
            "user_id", "user__username", "same_neighborhood"
        )
        page = self.paginate_queryset(rows.order_by("user_id"))
        return self.get_paginated_response(
            [
                {
                    "user_id": row["user_id"],
                    "username": row["user__username"],
                    "same_neighborhood": row["same_neighborhood"],
                }
                for row in page
            ]
        )
