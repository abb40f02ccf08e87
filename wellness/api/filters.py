import django_filters

from config.api.filters import FilterSet
from wellness.models import Habit, Story, Tag, UserTag, tag_name_normalise


class TagNameFilter(django_filters.CharFilter):
    """A tag by its name, in any letter case and with spaces around it."""

    def filter(self, queryset, value):
        return super().filter(queryset, tag_name_normalise(value) if value else value)


class TagFilter(FilterSet):
    name = TagNameFilter(help_text="The tag of this name.")

    class Meta:
        model = Tag
        fields = ["name"]


class UserTagFilter(FilterSet):
    tag = TagNameFilter(
        field_name="tag__name", help_text="Users interested in the tag of this name."
    )

    class Meta:
        model = UserTag
        fields = ["user_id", "tag_id", "tag"]


class StoryFilter(FilterSet):
    tag = TagNameFilter(
        field_name="tags_cached", lookup_expr="has", help_text="Stories with this tag."
    )

    class Meta:
        model = Story
        fields = ["user_id", "visibility", "tag"]


class HabitFilter(FilterSet):
    class Meta:
        model = Habit
        fields = ["frequency"]
