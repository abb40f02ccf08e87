from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from badges import services
from badges.api.filters import BadgeDefinitionFilter, BadgeGrantFilter
from badges.api.serializers import (
    BadgeDefinitionSerializer,
    BadgeDefinitionUpdateSerializer,
    BadgeGrantCreateSerializer,
    BadgeGrantSerializer,
)
from badges.models import BadgeDefinition, BadgeGrant
from config import privacy
from config.api.pagination import PageNumberPagination
from config.api.permissions import ReadOnlyOrModelPermissions


class BadgeDefinitionViewSet(viewsets.ModelViewSet):
    """Badges users can hold. Anyone signed in reads; staff with the model
    permissions create, edit and delete (not while the badge is granted)."""

    queryset = BadgeDefinition.objects.all()
    permission_classes = [ReadOnlyOrModelPermissions]
    pagination_class = PageNumberPagination  # a few dozen at most
    lookup_field = "badge"
    filterset_class = BadgeDefinitionFilter
    ordering_fields = ["badge"]
    ordering = ["badge"]

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return BadgeDefinitionUpdateSerializer
        return BadgeDefinitionSerializer


class BadgeGrantViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Who holds which badge (without users you blocked or who blocked you).
    Granting and revoking need the model permissions."""

    queryset = BadgeGrant.objects.select_related("definition")
    serializer_class = BadgeGrantSerializer
    permission_classes = [ReadOnlyOrModelPermissions]
    lookup_url_kwarg = "badge_grant_id"
    filterset_class = BadgeGrantFilter
    ordering_fields = ["id"]
    ordering = ["id"]

    @extend_schema(request=BadgeGrantCreateSerializer, responses=BadgeGrantSerializer)
    def create(self, request, *args, **kwargs):
        data = BadgeGrantCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant = services.badge_grant(
            user=data.validated_data["user"], definition=data.validated_data["badge"]
        )
        return Response(self.get_serializer(grant).data, status=status.HTTP_201_CREATED)

    def get_queryset(self):
        grants = super().get_queryset()
        if self.action == "destroy":  # the service needs the user
            return grants.select_related("user")
        return grants.exclude(privacy.hidden("user", self.request.user))

    def perform_destroy(self, instance):
        services.badge_revoke(user=instance.user, definition=instance.definition)
