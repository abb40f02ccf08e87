import factory

from tests.profiles.factories import UserFactory
from wellness import matching, services
from wellness.models import Garden, Habit, Story, Tag, UserFeature


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag {n}")


class StoryFactory(factory.django.DjangoModelFactory):
    """A story made as the API makes one (``services.story_create``):
    ``tags`` are names."""

    class Meta:
        model = Story

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"story {n}")
    content = "Once upon a time."
    tags = ()

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.story_create(**kwargs)


class HabitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Habit

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"habit {n}")
    frequency = "daily"


class GardenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Garden

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"garden {n}")


class UserFeatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserFeature

    user = factory.SubFactory(UserFactory)
    vector = factory.Sequence(lambda n: [1.0, (n % 7) / 7, 0.5])


def every_wellness_table(owner) -> None:
    """A row in each wellness table (tests/conftest.py): an interest, a
    public story with tags, a habit, a garden, a feature vector and the
    matches it found against another user's."""
    interest = f"interest of {owner.username}"
    services.interest_add(user=owner, tag=interest)
    StoryFactory(user=owner, visibility="public", tags=["growth", interest])
    HabitFactory(user=owner, meta={"minutes": 10})
    GardenFactory(user=owner, theme="zen")
    UserFeatureFactory(user=owner)
    UserFeatureFactory()
    matching.match([owner])
