"""Staff pages for users and their profiles, posts, reactions, highlights, stats.

Highlights change only through ``profiles.services`` (add, remove, reorder), so
the admin keeps positions contiguous exactly as the API does. Badge grant and
revoke actions on users call ``badges.services``.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import Action, ActionLocation
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from badges import services as badge_services
from badges.models import BadgeDefinition, BadgeGrant
from config.admin import (
    CreateThroughService,
    DeleteThroughService,
    ReadOnlyAdmin,
    related_lists,
)
from profiles import services
from profiles.models import (
    Post,
    Reaction,
    User,
    UserHighlight,
    UserProfile,
    UserStatsCache,
)

BADGE_ACTION_PERMISSIONS = {
    "grant": "badges.add_badgegrant",
    "revoke": "badges.delete_badgegrant",
}


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    readonly_fields = ["created_at", "updated_at"]


class UserHighlightInline(admin.TabularInline):
    """Read-only here: highlights change on the reorder page or their own list."""

    model = UserHighlight
    fk_name = "user"
    fields = ["position", "post", "created_at"]
    readonly_fields = fields
    ordering = ["position"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("post")


class BadgeGrantInline(admin.TabularInline):
    """Read-only here: grant and revoke with the actions of the user list."""

    model = BadgeGrant
    fields = ["definition", "granted_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("definition")


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class HighlightOrderForm(forms.Form):
    """One position box per highlight; the boxes' order becomes the new order."""

    def __init__(self, *args, highlights, **kwargs):
        super().__init__(*args, **kwargs)
        self.highlights = highlights
        for highlight in highlights:
            self.fields[f"post_{highlight.post_id}"] = forms.IntegerField(
                label=f"Post {highlight.post_id}: {highlight.post.body[:60]}",
                initial=highlight.position + 1,
                min_value=1,
                max_value=len(highlights),
            )

    def clean(self):
        cleaned = super().clean()
        ranks = [
            (cleaned.get(f"post_{highlight.post_id}"), highlight.post_id)
            for highlight in self.highlights
        ]
        if any(rank is None for rank, _ in ranks):
            return cleaned
        if len({rank for rank, _ in ranks}) != len(ranks):
            raise ValidationError("Give each highlight a different position.")
        cleaned["post_ids"] = [post_id for _, post_id in sorted(ranks)]
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    list_display = [
        "username",
        "email",
        "tagline_shown",
        "is_staff",
        "is_active",
        "created_at",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "badge_grants__definition"]
    search_fields = ["username", "email", "tagline"]
    readonly_fields = ["id", "created_at", "last_login", "highlights_link", "related"]
    fieldsets = [
        (None, {"fields": ["id", "username", "password"]}),
        (
            "Personal info",
            {"fields": ["first_name", "last_name", "email", "tagline", "auth0_sub"]},
        ),
        (
            "Permissions",
            {
                "fields": [
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ]
            },
        ),
        ("Important dates", {"fields": ["last_login", "created_at"]}),
        ("Highlights", {"fields": ["highlights_link"]}),
        ("Their records", {"fields": ["related"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                ],
            },
        )
    ]
    inlines = [UserProfileInline, UserHighlightInline, BadgeGrantInline]

    related = related_lists("Their rows in every table")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description="tagline", ordering="tagline")
    def tagline_shown(self, obj):
        if obj.tagline is None:
            return self.get_empty_value_display()
        # Its own direction: a right-to-left tagline reads right to left.
        return format_html('<span dir="auto">{}</span>', obj.tagline)

    @admin.display(description="Reorder")
    def highlights_link(self, obj):
        url = reverse("admin:profiles_user_highlights", args=[obj.pk])
        return format_html('<a href="{}">Reorder the highlights of {}</a>', url, obj)

    # --- badge actions: one grant and one revoke action per badge --------------------

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        if action_location != ActionLocation.CHANGE_LIST:
            return actions
        verbs = [
            verb
            for verb, permission in BADGE_ACTION_PERMISSIONS.items()
            if request.user.has_perm(permission)
        ]
        for definition in BadgeDefinition.objects.all() if verbs else []:
            for verb in verbs:
                action = self._badge_action_for(verb, definition)
                actions[action.name] = action
        return actions

    def _badge_action_for(self, verb: str, definition: BadgeDefinition) -> Action:
        def apply(modeladmin, request, queryset):
            self._badge_action(request, queryset, verb, definition)

        label = definition.label.replace("%", "%%")
        preposition = "to" if verb == "grant" else "from"
        description = (
            f"{verb.capitalize()} “{label}” badge {preposition} selected users"
        )
        return Action(
            func=apply,
            name=f"{verb}_badge_{definition.badge}",
            description=description,
            plural_description=description,
            locations=[ActionLocation.CHANGE_LIST],
        )

    @transaction.atomic
    def _badge_action(self, request, queryset, verb, definition):
        changed = unchanged = 0
        for user in queryset:
            if verb == "grant":
                try:
                    badge_services.badge_grant(user=user, definition=definition)
                    changed += 1
                except ValidationError:
                    unchanged += 1
            elif badge_services.badge_revoke(user=user, definition=definition):
                changed += 1
            else:
                unchanged += 1
        done = "granted to" if verb == "grant" else "revoked from"
        skipped = "already had it" if verb == "grant" else "did not have it"
        self.message_user(
            request,
            f"“{definition.label}” {done} {changed} user(s); {unchanged} {skipped}.",
            messages.SUCCESS,
        )

    # --- highlight reordering --------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/highlights/",
                self.admin_site.admin_view(self.highlights_view),
                name="profiles_user_highlights",
            ),
            *super().get_urls(),
        ]

    def highlights_view(self, request, object_id):
        """Reorder a user's highlights through ``services.highlights_reorder``."""
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404("No such user.")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        highlights = list(user.highlights.select_related("post").order_by("position"))
        form = HighlightOrderForm(
            request.POST if request.method == "POST" else None, highlights=highlights
        )
        if form.is_valid():
            try:
                services.highlights_reorder(
                    user=user, post_ids=form.cleaned_data["post_ids"]
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                self.message_user(request, "Highlights reordered.", messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reorder the highlights of {user}",
            "opts": self.opts,
            "original": user,
            "form": form,
            "highlights": highlights,
        }
        return TemplateResponse(request, "admin/profiles/user/highlights.html", context)


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "location", "updated_at"]
    list_filter = ["profile_music_provider"]
    search_fields = ["user__username", "display_name", "location"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Post)
class PostAdmin(CreateThroughService, admin.ModelAdmin):
    list_display = ["id", "author", "excerpt", "created_at"]
    search_fields = ["body", "author__username"]
    autocomplete_fields = ["author"]
    list_select_related = ["author"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"

    @admin.display(description="body")
    def excerpt(self, obj):
        return obj.body[:80]

    def service_create(self, request, obj, form):
        return services.post_create(author=obj.author, body=obj.body)


@admin.register(Reaction)
class ReactionAdmin(CreateThroughService, DeleteThroughService, admin.ModelAdmin):
    """A reaction is added or taken back, never edited."""

    list_display = ["id", "user", "post", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user", "post"]
    list_select_related = ["user", "post"]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["user", "post", "kind", "created_at"]
        return self.readonly_fields

    def service_create(self, request, obj, form):
        return services.reaction_add(user=obj.user, post=obj.post, kind=obj.kind)

    def service_delete(self, request, obj):
        services.reaction_remove(reaction=obj)


class UserHighlightAddForm(forms.ModelForm):
    class Meta:
        model = UserHighlight
        fields = ["user", "post"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("user") and cleaned.get("post"):
            try:
                services.highlight_add_check(user=cleaned["user"], post=cleaned["post"])
            except ValidationError as error:
                self.add_error("post", error.messages)
        return cleaned


@admin.register(UserHighlight)
class UserHighlightAdmin(CreateThroughService, DeleteThroughService, admin.ModelAdmin):
    """Add appends at the end and delete closes the gap (the services do it)."""

    list_display = ["user", "position", "post", "created_at"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user", "post"]
    list_select_related = ["user", "post"]
    ordering = ["user", "position"]
    add_form = UserHighlightAddForm
    readonly_fields = ["user", "post", "position", "created_at", "reorder_link"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ["user", "post"]

    @admin.display(description="Reorder")
    def reorder_link(self, obj):
        url = reverse("admin:profiles_user_highlights", args=[obj.user_id])
        return format_html(
            '<a href="{}">Reorder the highlights of {}</a>', url, obj.user
        )

    def service_create(self, request, obj, form):
        # The service picks the position: the end.
        return services.highlight_add(user=obj.user, post=obj.post)

    def service_delete(self, request, obj):
        services.highlight_remove(user=obj.user, post_id=obj.post_id)


@admin.register(UserStatsCache)
class UserStatsCacheAdmin(ReadOnlyAdmin):
    """Audit view of the stats fallback table; rows are written by the code."""

    list_display = ["user", "computed_at", "expires_at"]
    search_fields = ["user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "stats_json", "computed_at", "expires_at"]
