from badges.api import views
from config.api.routers import Router

router = Router()
router.register("badge-definitions", views.BadgeDefinitionViewSet)
router.register("badge-grants", views.BadgeGrantViewSet)

urlpatterns = router.urls
