"""Staff pages for rooms, messages, reports and the moderation log.

Reports are reviewed with actions (through ``services.report_review``, which
records who and when) and link to what they name. The moderation log is
append-only: staff add an action (the service records them as its
moderator), never change or delete one. ``blocks`` has a composite primary
key, which the admin cannot register (Django 6.1): a user's blocks are
theirs to make, in the API.
"""

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html

from config.admin import CreateThroughService, ReadOnlyAdmin, filter_link
from safety import services
from safety.models import (
    ChatRoom,
    ChatRoomMember,
    ChatRoomMessage,
    Location,
    ModerationAction,
    Presence,
    PrivateMessage,
    Report,
    ReportStatus,
)


class MemberInline(admin.TabularInline):
    model = ChatRoomMember
    fields = ["user", "role", "is_banned", "joined_at", "last_seen_at"]
    readonly_fields = ["joined_at", "last_seen_at"]
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(ChatRoom)
class ChatRoomAdmin(CreateThroughService, admin.ModelAdmin):
    list_display = [
        "room_name",
        "owner_link",
        "is_public",
        "max_participants",
        "created_at",
    ]
    list_filter = ["is_public"]
    search_fields = ["room_name", "owner__username", "owner__email"]
    autocomplete_fields = ["owner"]
    list_select_related = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MemberInline]
    owner_link = filter_link("owner", "owner")

    def service_create(self, request, obj, form):
        fields = {
            name: getattr(obj, name)
            for name in form.cleaned_data
            if name not in ("owner",) and hasattr(obj, name)
        }
        return services.room_create(owner=obj.owner, **fields)

    def save_formset(self, request, form, formset, change):
        """The members staff added, changed (a ban, a role) or deleted are
        announced to the room's sockets (docs/realtime.md)."""
        super().save_formset(request, form, formset, change)
        for member in formset.new_objects:
            services.staff_member_saved(member, created=True)
        for member, changed in formset.changed_objects:
            services.staff_member_saved(member, created=False, changed=changed)
        for member in formset.deleted_objects:
            services.staff_member_deleted(member)


@admin.register(ChatRoomMember)
class ChatRoomMemberAdmin(admin.ModelAdmin):
    list_display = ["room", "user", "role", "is_banned", "joined_at"]
    list_filter = ["role", "is_banned"]
    search_fields = ["room__room_name", "user__username", "user__email"]
    autocomplete_fields = ["room", "user"]
    list_select_related = ["room", "user"]
    readonly_fields = ["joined_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.staff_member_saved(obj, created=not change, changed=form.changed_data)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.staff_member_deleted(obj)

    def delete_queryset(self, request, queryset):
        members = list(queryset)
        super().delete_queryset(request, queryset)
        for member in members:
            services.staff_member_deleted(member)


@admin.register(ChatRoomMessage)
class ChatRoomMessageAdmin(admin.ModelAdmin):
    list_display = ["excerpt", "room", "user", "created_at"]
    search_fields = ["message", "user__username", "room__room_name"]
    autocomplete_fields = ["room", "user"]
    list_select_related = ["room", "user"]
    readonly_fields = ["created_at"]

    @admin.display(description="message")
    def excerpt(self, obj):
        return obj.message[:80]


@admin.register(PrivateMessage)
class PrivateMessageAdmin(admin.ModelAdmin):
    list_display = ["excerpt", "sender", "recipient", "created_at"]
    search_fields = ["sender__username", "recipient__username"]
    autocomplete_fields = ["sender", "recipient"]
    list_select_related = ["sender", "recipient"]
    readonly_fields = ["created_at"]

    @admin.display(description="message")
    def excerpt(self, obj):
        return obj.message[:80]


@admin.register(Presence)
class PresenceAdmin(admin.ModelAdmin):
    list_display = ["user", "status", "activity", "room", "last_seen_at"]
    list_filter = ["status"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user", "room"]
    list_select_related = ["user", "room"]
    readonly_fields = ["updated_at"]


def _link(obj, label=None):
    if obj is None:
        return "-"
    info = obj._meta.app_label, obj._meta.model_name
    url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or obj)


def _review_action(status: ReportStatus):
    def review(model_admin, request, queryset):
        done = 0
        for report in queryset:
            try:
                services.report_review(
                    report=report, moderator=request.user, status=status
                )
                done += 1
            except ValidationError as error:
                model_admin.message_user(
                    request, f"#{report.pk}: {error.messages[0]}", messages.WARNING
                )
        model_admin.message_user(request, f"{done} report(s) now {status}.")

    review.__name__ = f"mark_{status}"
    return admin.action(
        description=f"Mark the selected reports {status}",
        permissions=["change"],
        # On the list, and on a report's own page where staff read it.
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )(review)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "status",
        "reporter",
        "user_reported",
        "room_reported",
        "message_reported",
        "created_at",
    ]
    list_filter = ["status", "report_type"]
    search_fields = ["report_type", "reporter__username", "reported_user__username"]
    list_select_related = [
        "reporter",
        "reported_user",
        "reported_room",
        "reported_message",
    ]
    readonly_fields = [
        "reporter",
        "user_reported",
        "room_reported",
        "message_reported",
        "report_type",
        "description",
        "status",
        "reviewed_by",
        "reviewed_at",
        "created_at",
    ]
    fields = readonly_fields
    actions = [_review_action(s) for s in ReportStatus if s != ReportStatus.PENDING]

    def has_add_permission(self, request):
        return False  # users report in the app

    @admin.display(description="reported user")
    def user_reported(self, obj):
        return _link(obj.reported_user)

    @admin.display(description="reported room")
    def room_reported(self, obj):
        return _link(obj.reported_room)

    @admin.display(description="reported message")
    def message_reported(self, obj):
        return _link(obj.reported_message)


@admin.register(ModerationAction)
class ModerationActionAdmin(CreateThroughService, admin.ModelAdmin):
    """Append-only: the add page writes through the service, as the signed-in
    moderator; nothing is changed or deleted."""

    list_display = [
        "action_type",
        "target_user",
        "moderator",
        "duration_minutes",
        "created_at",
    ]
    list_filter = ["action_type"]
    search_fields = ["target_user__username", "moderator__username", "reason"]
    autocomplete_fields = ["target_user", "report"]
    list_select_related = ["target_user", "moderator"]
    fields = ["target_user", "action_type", "reason", "duration_minutes", "report"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.fields, "moderator", "created_at"] if obj else []

    def get_fields(self, request, obj=None):
        return [*self.fields, "moderator", "created_at"] if obj else self.fields

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    def service_create(self, request, obj, form):
        return services.moderation_action_create(
            moderator=request.user,
            target_user=obj.target_user,
            action_type=obj.action_type,
            reason=obj.reason,
            duration_minutes=obj.duration_minutes,
            report=obj.report,
        )

    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    """Hashes and rounded coordinates only: nothing here names a place."""

    list_display = ["user", "city_hash", "latitude", "longitude", "updated_at"]
    search_fields = ["user__username", "=city_hash"]
    list_select_related = ["user"]
