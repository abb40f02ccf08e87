import factory

from badges.models import BadgeDefinition, BadgeGrant
from tests.profiles.factories import UserFactory


class BadgeDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BadgeDefinition

    badge = factory.Sequence(lambda n: f"badge-{n}")
    label = factory.Sequence(lambda n: f"Badge {n}")
    is_tag_badge = True


class BadgeGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BadgeGrant

    user = factory.SubFactory(UserFactory)
    definition = factory.SubFactory(BadgeDefinitionFactory)


def every_badges_table(owner) -> None:
    """A badge definition, granted to ``owner`` (tests/conftest.py)."""
    BadgeGrantFactory(user=owner)
