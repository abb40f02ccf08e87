import django_filters

from profiles.models import Post, Reaction, User


class UserFilter(django_filters.FilterSet):
    class Meta:
        model = User
        fields = {"username": ["exact", "startswith"]}


class PostFilter(django_filters.FilterSet):
    class Meta:
        model = Post
        fields = ["author"]


class ReactionFilter(django_filters.FilterSet):
    class Meta:
        model = Reaction
        fields = ["user", "post"]
