from django.urls import path

from config.api.routers import Router
from profiles.api import views

router = Router()
router.register("users", views.UserViewSet, basename="user")
router.register(
    "users/<uuid:user_id>/highlights",
    views.UserHighlightViewSet,
    basename="user-highlight",
)
router.register(
    "users/<uuid:user_id>/reacted-posts",
    views.ReactedPostViewSet,
    basename="user-reacted-post",
)
router.register("me/highlights", views.MyHighlightViewSet, basename="my-highlight")
router.register("posts", views.PostViewSet)
router.register("reactions", views.ReactionViewSet)
router.register("user-profiles", views.UserProfileViewSet)
router.register("user-stats-cache", views.UserStatsCacheViewSet)

urlpatterns = [
    path(
        "me/",
        views.MeViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="me",
    ),
    *router.urls,
]
