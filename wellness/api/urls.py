from config.api.routers import Router
from wellness.api import views

router = Router()
router.register("tags", views.TagViewSet)
router.register("user-tags", views.UserTagViewSet)
router.register(
    "user-tags/<uuid:user_id>", views.UserInterestViewSet, basename="user-interest"
)
router.register("stories", views.StoryViewSet)
router.register("habits", views.HabitViewSet)
router.register("gardens", views.GardenViewSet)
router.register("user-features", views.UserFeatureViewSet)
router.register("match-results", views.MatchResultViewSet)

urlpatterns = router.urls
