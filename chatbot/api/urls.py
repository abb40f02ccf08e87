from chatbot.api import views
from config.api.routers import Router

router = Router()
router.register("tasks", views.TaskViewSet)
router.register("conversations", views.ConversationViewSet)
router.register(
    "conversations/<uuid:conversation_id>/messages",
    views.MessageViewSet,
    basename="conversation-message",
)

urlpatterns = router.urls
