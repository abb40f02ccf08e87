from django.urls import register_converter

from community.api import views
from community.models import MEMBER_ID_PREFIX
from config.api.routers import Router


class MemberIdConverter:
    """``<member_id:...>``: a member's handle with its ``#`` (sent as ``%23``)
    or without it: ``/community-members/247/`` is member ``#247``."""

    regex = "#?[0-9]{1,18}"

    def to_python(self, value: str) -> str:
        return MEMBER_ID_PREFIX + value.removeprefix(MEMBER_ID_PREFIX)

    def to_url(self, value: str) -> str:
        return value.removeprefix(MEMBER_ID_PREFIX)


register_converter(MemberIdConverter, "member_id")

router = Router()
router.register("community-members", views.MemberViewSet)
router.register("community-invitations", views.InvitationViewSet)
router.register("member-relationships", views.RelationshipViewSet)
router.register("member-participation", views.ParticipationViewSet)
router.register("member-daily-highlights", views.DailyHighlightViewSet)

urlpatterns = router.urls
