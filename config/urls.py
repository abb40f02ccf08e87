"""Root URLconf: the admin, each app's API under /api/<app>/, and the API docs."""

from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny

from profiles.api.views import TokenView


class IdConverter:
    """``<id:...>``: a row id within bigint range; a larger number is a 404,
    not an overflow in the database driver. Registered before the app URLconfs
    below are included, so they and their routers' ``lookup_value_converter``
    can use it."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > 2**63 - 1:
            raise ValueError(value)  # Django reads this as "no match"
        return number

    def to_url(self, value) -> str:
        return str(value)


register_converter(IdConverter, "id")


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
@schema(None)
def not_found(request, path):
    """Unknown paths under /api/ answer in the API's error format, not HTML."""
    raise NotFound(f"No API endpoint at /api/{path}.")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/profiles/", include("profiles.api.urls")),
    path("api/badges/", include("badges.api.urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny]),
        name="api-schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(
            url_name="api-schema", permission_classes=[AllowAny]
        ),
        name="api-docs",
    ),
    re_path(r"^api/(?P<path>[\s\S]*)$", not_found),
]
