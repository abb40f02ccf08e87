from rest_framework.routers import DefaultRouter

from badges.api import views

router = DefaultRouter(use_regex_path=False)
router.include_format_suffixes = False
router.register("badge-definitions", views.BadgeDefinitionViewSet)
router.register("badge-grants", views.BadgeGrantViewSet)

urlpatterns = router.urls
