from config.api.routers import Router
from safety.api import views

router = Router()
router.register("chat-rooms", views.ChatRoomViewSet)
router.register(
    "chat-rooms/<id:room_id>/members", views.MemberViewSet, basename="room-member"
)
router.register(
    "chat-rooms/<id:room_id>/messages",
    views.RoomMessageViewSet,
    basename="room-message",
)
router.register("private-messages", views.PrivateMessageViewSet)
router.register("presence", views.PresenceViewSet)
router.register("reports", views.ReportViewSet)
router.register("blocks", views.BlockViewSet)
router.register("moderation-actions", views.ModerationActionViewSet)
router.register("locations", views.LocationViewSet)

urlpatterns = router.urls
