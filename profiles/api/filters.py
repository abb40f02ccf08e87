from config.api.filters import FilterSet
from profiles.models import Post, Reaction, User


class UserFilter(FilterSet):
    class Meta:
        model = User
        fields = {"username": ["exact", "startswith"]}


class PostFilter(FilterSet):
    class Meta:
        model = Post
        fields = ["author_id"]


class ReactionFilter(FilterSet):
    class Meta:
        model = Reaction
        fields = ["user_id", "post_id"]
