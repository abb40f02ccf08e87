"""Staff pages for badge definitions and grants. Grants change only through
``badges.services``; the user list has grant and revoke actions too."""

from django.contrib import admin
from django.utils.html import format_html

from badges import services
from badges.models import BadgeDefinition, BadgeGrant
from config.admin import CreateThroughService, DeleteThroughService


@admin.register(BadgeDefinition)
class BadgeDefinitionAdmin(admin.ModelAdmin):
    list_display = ["badge", "label", "is_tag_badge", "icon", "created_at"]
    list_filter = ["is_tag_badge"]
    search_fields = ["badge", "label"]
    readonly_fields = ["icon_url_64", "icon_url_16", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # The identifier names grants and artwork files: fixed once created.
        if obj is not None:
            return ["badge", *self.readonly_fields]
        return self.readonly_fields

    @admin.display(description="icon")
    def icon(self, obj):
        return format_html(
            '<img src="{}" width="32" height="32" alt="">', obj.icon_url_64
        )


@admin.register(BadgeGrant)
class BadgeGrantAdmin(CreateThroughService, DeleteThroughService, admin.ModelAdmin):
    list_display = ["user", "definition", "granted_at"]
    list_filter = ["definition"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "definition"]
    readonly_fields = ["granted_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a grant is revoked and granted anew, not edited
            return ["user", "definition", "granted_at"]
        return self.readonly_fields

    def service_create(self, request, obj, form):
        return services.badge_grant(user=obj.user, definition=obj.definition)

    def service_delete(self, request, obj):
        services.badge_revoke(user=obj.user, definition=obj.definition)
