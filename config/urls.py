"""Root URLconf: the home page, the admin, each app's API under /api/<app>/,
the platform's endpoints and the API docs."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from config.admin import LoginForm
from config.api.throttling import AnonymousThrottle
from config.api.views import ApiRootView, SchemaView, TokenView, not_found
from profiles.api.views import RegisterView

# Each app serves its API from its api/urls.py at /api/<app>/.
API_APPS = ["profiles", "badges", "community", "chatbot", "wellness", "safety"]

API_LINKS = {
    **{app: f"/api/{app}/" for app in API_APPS},
    "token": "/api/auth/token/",
    "register": "/api/auth/register/",
    "schema": "/api/schema/",
    "docs": "/api/docs/",
}

# The admin names the product on every page (the header, the browser tab)
# and says on its index what staff find there.
admin.site.site_header = "Backend staff admin"
admin.site.site_title = "Backend staff admin"
admin.site.index_title = "Users, community, chat, wellness and safety"
# Failed logins are limited by address and by account (config.ratelimit).
admin.site.login_form = LoginForm

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("api/", ApiRootView.as_view(links=API_LINKS), name="api"),
    path("api/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/auth/register/", RegisterView.as_view(), name="api-register"),
    *(path(f"api/{app}/", include(f"{app}.api.urls")) for app in API_APPS),
    path(
        "api/schema/",
        SchemaView.as_view(),
        name="api-schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(
            url_name="api-schema",
            permission_classes=[AllowAny],
            throttle_classes=[AnonymousThrottle],
        ),
        name="api-docs",
    ),
    re_path(r"^api/(?P<path>[\s\S]*)$", not_found),
]

# Requests under /api/ get the API's JSON error body from these too.
handler400 = "config.api.errors.bad_request"
handler403 = "config.api.errors.permission_denied"
handler404 = "config.api.errors.page_not_found"
handler500 = "config.api.errors.server_error"
