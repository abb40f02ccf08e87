"""Viewset bases every app may use, and the platform's own endpoints: the API
root, the token endpoint and the JSON 404 for unknown ``/api/`` paths."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.parsers import JSONParser
from config.api.serializers import StrictInputMixin
from config.api.throttling import PasswordThrottle


class UserScopedListViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A list nested under ``users/<uuid:user_id>/``; 404 for an unknown or
    inactive user.

    Subclasses set ``queryset`` (its model documents the schema) and build the
    rows from the user in ``get_user_queryset``.
    """

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return self.queryset
        user = get_object_or_404(
            get_user_model(), pk=self.kwargs["user_id"], is_active=True
        )
        return self.get_user_queryset(user)

    def get_user_queryset(self, user):
        raise NotImplementedError


class TokenSerializer(StrictInputMixin, AuthTokenSerializer):
    username = serializers.CharField(
        max_length=254, write_only=True, help_text="Your username or email address."
    )
    password = serializers.CharField(
        max_length=4096,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
    )
    token = serializers.CharField(
        read_only=True,
        help_text='Send it as "Authorization: Token <token>" on every request.',
    )


class TokenView(ObtainAuthToken):
    """Exchange a username (or email, in any letter case) and password for an
    API token. Wrong credentials are a 400; the endpoint is rate-limited."""

    serializer_class = TokenSerializer
    parser_classes = [JSONParser]
    renderer_classes = APIView.renderer_classes
    throttle_classes = [PasswordThrottle]
    authentication_classes = []

    @extend_schema(request=TokenSerializer, responses=TokenSerializer)
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class ApiRootView(APIView):
    """Links to each app's API and to the platform's endpoints."""

    permission_classes = [permissions.AllowAny]
    schema = None
    links: dict[str, str] = {}

    def get(self, request):
        return Response(
            {name: request.build_absolute_uri(url) for name, url in self.links.items()}
        )


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([permissions.AllowAny])
@schema(None)
def not_found(request, path):
    """Unknown paths under /api/ answer in the API's error format, not HTML."""
    raise NotFound(f"No API endpoint at /api/{path}.")
