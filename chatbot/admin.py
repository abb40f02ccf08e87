"""Staff pages for tasks and conversations. Messages are the audit trail of
a conversation: shown inline and in their own list, never added, edited or
deleted here (as in the API)."""

from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import PermissionDenied

from chatbot.models import Conversation, Message, Task
from config.admin import ReadOnlyAdmin, filter_link


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "completed", "created_at", "updated_at"]
    list_filter = ["completed"]
    search_fields = ["title", "user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]
    owner = filter_link("user", "user")


class MessageInline(admin.TabularInline):
    """The conversation's replay, oldest first, with the agent's tool calls."""

    model = Message
    fields = ["created_at", "role", "content", "tool_calls"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "created_at", "updated_at"]
    search_fields = ["title", "user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]
    owner = filter_link("user", "user")
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["conversation", "user", "role", "excerpt", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "=conversation__id"]
    list_select_related = ["conversation", "user"]

    @admin.display(description="content")
    def excerpt(self, obj):
        return obj.content[:80]

    # Not deletable one by one; they go with their conversation or user (whose
    # delete pages check the delete permission of every row that goes along).
    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions
