"""Viewset bases every app may use, and the platform's own endpoints: the API
root, the token endpoint and the JSON 404 for unknown ``/api/`` paths."""

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from config import privacy
from config.api.lean import Shape
from config.api.pagination import key_columns
from config.api.parsers import JSONParser
from config.api.serializers import StrictInputMixin
from config.api.throttling import AnonymousThrottle, PasswordThrottle


class LeanListMixin:
    """``list()`` (and ``retrieve()`` with ``LeanRetrieveMixin``) on the lean
    read path: only the columns ``shape`` names (and those its order needs)
    are fetched, with ``.values()``, and each row becomes the response's dict
    without DRF's serializer (config/api/lean.py). ``serializer_class`` still
    documents the response; a test checks the two agree.

    Rows come from ``get_queryset()``, so a view that scopes its rows there
    stays scoped. Put annotations in the class-level ``queryset``: DRF builds
    it once and each request clones it, instead of resolving them again.
    """

    shape: Shape

    def lean_rows(self, queryset):
        ordering = [term.lstrip("-") for term in queryset.query.order_by]
        key = key_columns(queryset.model)
        return queryset.values(*dict.fromkeys([*self.shape.columns, *ordering, *key]))

    def lean_response(self, obj, status: int = 200) -> Response:
        """``obj``, just written, as the lean path shows it (read back by its
        key, so database defaults and expressions show their values)."""
        found = type(obj)._base_manager.filter(pk=obj.pk)
        return Response(self.shape.build(self.lean_rows(found).get()), status=status)

    def list(self, request, *args, **kwargs):
        rows = self.lean_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows)
        if page is None:
            return self.shape.response(rows)
        build = self.shape.build  # once: a view may choose its shape per request
        return self.get_paginated_response([build(row) for row in page])


class LeanRetrieveMixin(LeanListMixin):
    """``retrieve()`` on the lean path, for views whose object permissions let
    every reader read (it has no instance to check them on)."""

    def retrieve(self, request, *args, **kwargs):
        key = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        found = self.get_queryset().filter(**{self.lookup_field: key})
        row = next(iter(self.lean_rows(found)[:1]), None)
        if row is None:
            raise NotFound
        return Response(self.shape.build(row))


class OwnRowsMixin:
    """The signed-in user's rows of ``queryset`` only (its ``user`` column):
    another user's row is a 404 on every verb, and never in a list."""

    def get_queryset(self):
        return self.queryset.filter(user=self.request.user)


class UserScopedListViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A list nested under ``users/<uuid:user_id>/``; 404 for an unknown or
    inactive user, or one hidden from the reader (config.privacy: a block).

    A subclass filters its rows on the user being active and not hidden, so
    rows prove the user is there; only an empty list costs a second query,
    to tell "nothing yet" from "no such user" (``user_or_404``).
    """

    def user_or_404(self) -> None:
        user_or_404(self.kwargs["user_id"], self.request.user)


def user_or_404(user_id, reader) -> None:
    """A 404 unless ``user_id`` is an active user ``reader`` may see (one
    hidden from them answers as one that does not exist). One query."""
    users = get_user_model().objects.filter(pk=user_id, is_active=True)
    if not users.exclude(privacy.hidden("pk", reader)).exists():
        raise NotFound("No such user.")


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
    throttle_classes = [AnonymousThrottle]
    schema = None
    links: dict[str, str] = {}

    def get(self, request):
        return Response(
            {name: request.build_absolute_uri(url) for name, url in self.links.items()}
        )


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, public and rate-limited per address. It depends on
    the code alone, so each process makes it once per format: making and
    rendering it costs 0.1 to 0.2 s of CPU, which would let anonymous
    requests load a server. (A ``?lang=`` translation is made each time.)"""

    permission_classes = [permissions.AllowAny]
    throttle_classes = [AnonymousThrottle]
    schema = None  # not an operation of the API it describes
    _made: dict[str, tuple[bytes, str, str]] = {}  # format: body and headers

    def get(self, request, *args, **kwargs):
        if "lang" in request.GET:
            return super().get(request, *args, **kwargs)
        fmt = request.accepted_renderer.format
        if fmt not in self._made:
            response = self.finalize_response(
                request, super().get(request, *args, **kwargs)
            )
            self._made[fmt] = (
                response.rendered_content,
                response["Content-Type"],
                response["Content-Disposition"],
            )
        body, content_type, disposition = self._made[fmt]
        return HttpResponse(
            body,
            content_type=content_type,
            headers={"Content-Disposition": disposition},
        )


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([permissions.AllowAny])
@schema(None)
def not_found(request, path):
    """Unknown paths under /api/ answer in the API's error format, not HTML."""
    raise NotFound(f"No API endpoint at /api/{path}.")
