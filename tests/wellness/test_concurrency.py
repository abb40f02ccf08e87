"""Two writers at once, on PostgreSQL (the ``in_parallel`` fixture: the first
commits only once the second waits for its lock)."""

from django.db import IntegrityError

from tests.profiles.factories import UserFactory
from wellness import services
from wellness.models import Garden, Habit, Story, Tag, UserTag


def test_two_stories_naming_one_new_tag_at_once_both_succeed(in_parallel):
    ada, bob = UserFactory(), UserFactory()

    def write(user):
        return lambda: services.story_create(
            user=user, title="Rain", content="...", tags=["Puddles"]
        )

    results, errors = in_parallel(write(ada), write(bob))
    assert errors == {}
    assert set(results) == {"first", "second"}
    assert list(Tag.objects.filter(name="puddles").values_list("name", flat=True)) == [
        "puddles"
    ]
    assert sorted(Story.objects.values_list("tags_cached", flat=True)) == [
        ["puddles"],
        ["puddles"],
    ]


def test_two_users_adding_one_new_interest_at_once_share_the_tag(in_parallel):
    ada, bob = UserFactory(), UserFactory()
    _, errors = in_parallel(
        lambda: services.interest_add(user=ada, tag="Kites"),
        lambda: services.interest_add(user=bob, tag="kites"),
    )
    assert errors == {}
    assert Tag.objects.filter(name="kites").count() == 1
    assert UserTag.objects.filter(tag__name="kites").count() == 2


def test_two_gardens_of_one_user_at_once_leave_one(in_parallel):
    ada = UserFactory()
    results, errors = in_parallel(
        lambda: services.garden_create(user=ada, name="First", theme="zen"),
        lambda: services.garden_create(user=ada, name="Second"),
    )
    assert set(results) == {"first"}
    assert isinstance(errors["second"], IntegrityError)  # the API: a 409
    assert list(Garden.objects.values_list("name", "theme")) == [("First", "zen")]


def test_two_habits_of_one_name_at_once_leave_one(in_parallel):
    ada = UserFactory()
    results, errors = in_parallel(
        lambda: services.habit_create(user=ada, name="Walk", frequency="daily"),
        lambda: services.habit_create(user=ada, name="Walk"),
    )
    assert set(results) == {"first"}
    assert isinstance(errors["second"], IntegrityError)  # the API: a 409 on name
    assert list(Habit.objects.values_list("name", "frequency")) == [("Walk", "daily")]
