from django.db.models import Q

from config.api.filters import FilterSet, IdFilter, UUIDFilter
from safety.models import ChatRoom, Presence, PrivateMessage


class PrivateMessageFilter(FilterSet):
    with_user_id = UUIDFilter(
        method="between", help_text="One conversation: yours with this user."
    )

    class Meta:
        model = PrivateMessage
        fields = ["with_user_id"]

    def between(self, queryset, name, value):
        return queryset.filter(Q(sender_id=value) | Q(recipient_id=value))


class PresenceFilter(FilterSet):
    room_id = IdFilter(
        method="in_room", help_text="Those in this room (one you can see)."
    )

    class Meta:
        model = Presence
        fields = ["room_id"]

    def in_room(self, queryset, name, value):
        rooms = ChatRoom.objects.visible_to(self.request.user).filter(pk=value)
        return queryset.filter(room__in=rooms)
