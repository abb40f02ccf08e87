import factory
from django.utils import timezone

from profiles import services
from profiles.models import Post, Reaction, User, UserProfile, UserStatsCache

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class UserProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserProfile

    user = factory.SubFactory(UserFactory)
    display_name = factory.Faker("name")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    author = factory.SubFactory(UserFactory)
    body = factory.Faker("sentence")


class ReactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reaction

    user = factory.SubFactory(UserFactory)
    post = factory.SubFactory(PostFactory)
    kind = "like"


def every_profiles_table(owner) -> None:
    """One row in each profiles table, owned by ``owner`` (tests/conftest.py)."""
    post = PostFactory(author=owner)
    ReactionFactory(user=owner, post=post)
    UserProfileFactory(user=owner)
    services.highlight_add(user=owner, post=post)
    now = timezone.now()
    UserStatsCache.objects.create(
        user=owner, stats_json={}, computed_at=now, expires_at=now
    )
