"""Staff pages for badge definitions and grants. Grants change only through
``badges.services``; the user list has grant and revoke actions too."""

from django.contrib import admin
from django.db import transaction
from django.utils.html import format_html

from badges import services
from badges.models import BadgeDefinition, BadgeGrant


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

    @admin.display(description="64px icon")
    def icon(self, obj):
        return format_html("<code>{}</code>", obj.icon_url_64)


@admin.register(BadgeGrant)
class BadgeGrantAdmin(admin.ModelAdmin):
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

    def save_model(self, request, obj, form, change):
        if not change:
            grant = services.badge_grant(user=obj.user, definition=obj.definition)
            obj.pk, obj.granted_at = grant.pk, grant.granted_at
            obj._state.adding = False

    def delete_model(self, request, obj):
        services.badge_revoke(user=obj.user, definition=obj.definition)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for grant in queryset.select_related("user", "definition"):
            self.delete_model(request, grant)
