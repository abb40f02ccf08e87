"""Staff pages for the wellness tables.

``user_tags`` has a composite primary key, which the admin cannot register
(Django 6.1): a user's interests are edited on the tag's page instead, with
"add users" and "remove users" fields (autocomplete, so a tag with thousands
of users still opens). Stories take their tags as names, as in the API, and
match results are the matching's output: read-only, recomputed from the
feature vectors' page.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.html import format_html_join

from config.admin import (
    CreateThroughService,
    DeleteThroughService,
    ReadOnlyAdmin,
    filter_link,
)
from wellness import matching, services
from wellness.models import Garden, Habit, MatchResult, Story, Tag, UserFeature

SHOWN_USERS = 20


def _users_field(label: str) -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.all(),
        required=False,
        label=label,
        widget=AutocompleteSelectMultiple(Tag._meta.get_field("users"), admin.site),
    )


class TagForm(forms.ModelForm):
    add_users = _users_field("Add users")
    remove_users = _users_field("Remove users")

    class Meta:
        model = Tag
        fields = ["name"]

    def clean_name(self):
        try:
            return services.tag_name_clean(self.cleaned_data["name"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["name"]) from None


@admin.register(Tag)
class TagAdmin(CreateThroughService, DeleteThroughService, admin.ModelAdmin):
    form = TagForm
    list_display = ["name", "user_count", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["interested", "created_at"]
    fields = ["name", "interested", "add_users", "remove_users", "created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(user_count=Count("user_tags"))

    @admin.display(description="users", ordering="user_count")
    def user_count(self, obj):
        return obj.user_count

    @admin.display(description="Interested users")
    def interested(self, obj):
        if obj.pk is None:
            return "-"
        users = obj.users.order_by("username")[:SHOWN_USERS]
        listed = format_html_join(", ", "{}", ((u,) for u in users)) or "nobody"
        more = obj.user_count - SHOWN_USERS
        return f"{listed} and {more} more" if more > 0 else listed

    def service_create(self, request, obj, form):
        return services.tag_create(name=obj.name)

    def save_model(self, request, obj, form, change):
        if change and "name" in form.changed_data:
            renamed = obj.name
            obj.name = form.initial["name"]
            services.tag_rename(tag=obj, name=renamed)
        elif not change:
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.tag_users_change(
            tag=form.instance,
            add=form.cleaned_data["add_users"],
            remove=form.cleaned_data["remove_users"],
        )

    def service_delete(self, request, obj):
        services.tag_delete(tag=obj)


class StoryForm(forms.ModelForm):
    tags = forms.CharField(
        required=False,
        help_text="Tag names separated by commas; new names make new tags.",
    )

    class Meta:
        model = Story
        fields = ["user", "title", "content", "visibility"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["tags"] = ", ".join(self.instance.tags_cached or [])

    def clean_tags(self):
        names = [name for name in self.cleaned_data["tags"].split(",") if name.strip()]
        try:
            return services.tag_names_clean(names)
        except ValidationError as error:
            raise ValidationError(error.message_dict["tags"]) from None


@admin.register(Story)
class StoryAdmin(CreateThroughService, admin.ModelAdmin):
    form = StoryForm
    list_display = ["title", "author", "visibility", "tag_list", "created_at"]
    list_filter = ["visibility"]
    search_fields = ["title", "user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "updated_at"]
    author = filter_link("user", "author")

    @admin.display(description="tags")
    def tag_list(self, obj):
        return ", ".join(obj.tags_cached or [])

    def service_create(self, request, obj, form):
        return services.story_create(
            user=obj.user,
            title=obj.title,
            content=obj.content,
            visibility=obj.visibility,
            tags=form.cleaned_data["tags"],
        )

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        changed = set(form.changed_data)
        fields = {name: getattr(obj, name) for name in changed - {"tags"}}
        tags = form.cleaned_data["tags"] if "tags" in changed else None
        services.story_update(story=obj, tags=tags, **fields)
        return None


@admin.register(Habit)
class HabitAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "frequency", "created_at"]
    list_filter = ["frequency"]
    search_fields = ["name", "user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["created_at"]
    owner = filter_link("user", "user")


@admin.register(Garden)
class GardenAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "theme", "created_at"]
    search_fields = ["name", "theme", "user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["created_at"]
    owner = filter_link("user", "user")


@admin.register(UserFeature)
class UserFeatureAdmin(admin.ModelAdmin):
    list_display = ["user", "version", "dimensions", "updated_at"]
    list_filter = ["version"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["updated_at"]
    actions = ["compute_matches"]

    @admin.display(description="dimensions")
    def dimensions(self, obj):
        return len(obj.vector) if isinstance(obj.vector, list) else "-"

    @admin.action(
        description="Compute the matches of the selected users now",
        permissions=["change"],
    )
    def compute_matches(self, request, queryset):
        found = matching.match(queryset.values_list("user_id", flat=True))
        self.message_user(request, f"{found} matches stored.", messages.SUCCESS)


@admin.register(MatchResult)
class MatchResultAdmin(ReadOnlyAdmin):
    list_display = ["user", "target_user", "score", "created_at"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user", "target_user"]
