"""The wellness tables as the database keeps them: the seed's cascades in
PostgreSQL itself, its CHECK and unique constraints, the ``varchar[]`` of
``tags_cached`` (JSON text on SQLite) and its ``has`` lookup, and the seed's
indexes serving the reads they exist for."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from profiles.models import UserProfile
from tests.helpers import sql
from tests.profiles.factories import UserFactory
from tests.wellness.factories import (
    GardenFactory,
    HabitFactory,
    StoryFactory,
    UserFeatureFactory,
)
from wellness import matching, services
from wellness.models import (
    VECTOR_MAX_LENGTH,
    Garden,
    Habit,
    MatchResult,
    Story,
    Tag,
    UserFeature,
    UserTag,
    validate_vector,
)

pytestmark = pytest.mark.django_db


def refused(statement: str, params=()) -> bool:
    try:
        with transaction.atomic():
            sql(statement, params)
    except IntegrityError:
        return True
    return False


def test_deleting_a_user_in_sql_removes_their_wellness_rows(postgresql):
    ada, bob = UserFactory(), UserFactory()
    for person in (ada, bob):
        services.interest_add(user=person, tag="sleep")
        StoryFactory(user=person)
        HabitFactory(user=person)
        GardenFactory(user=person)
        UserFeatureFactory(user=person)
    matching.match()
    assert MatchResult.objects.filter(target_user=ada).exists()
    sql("DELETE FROM users WHERE id = %s", [ada.pk])
    for model in (UserTag, Story, Habit, Garden, UserFeature):
        assert list(model.objects.values_list("user_id", flat=True)) == [bob.pk]
    assert not MatchResult.objects.filter(user=ada).exists()
    assert not MatchResult.objects.filter(target_user=ada).exists()
    sql("DELETE FROM tags")
    assert not UserTag.objects.exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stories SET visibility = 'secret'",
        "UPDATE habits SET frequency = 'hourly'",
        "UPDATE match_results SET score = 1.5",
        "UPDATE match_results SET score = -0.1",
        "UPDATE user_profiles SET journaling_frequency = 8",
        "UPDATE user_profiles SET journaling_frequency = -1",
    ],
)
def test_check_constraints_refuse_bad_values(statement):
    user, other = UserFactory(), UserFactory()
    StoryFactory(user=user)
    HabitFactory(user=user)
    UserProfile.objects.create(user=user, journaling_frequency=3)
    MatchResult.objects.create(user=user, target_user=other, score=0.5)
    assert refused(statement)


def test_unique_constraints():
    user, other = UserFactory(), UserFactory()
    habit, garden = HabitFactory(user=user), GardenFactory(user=user)
    tag = Tag.objects.create(name="sleep")
    UserTag.objects.create(user=user, tag=tag)
    now = timezone.now()
    MatchResult.objects.create(user=user, target_user=other, score=0.5, created_at=now)
    duplicates = [
        lambda: Habit.objects.create(user=user, name=habit.name),
        lambda: Garden.objects.create(user=user, name="second"),
        lambda: Tag.objects.create(name="sleep"),
        lambda: UserTag.objects.create(user=user, tag=tag),
        lambda: MatchResult.objects.create(
            user=user, target_user=other, score=0.7, created_at=now
        ),
    ]
    for make in duplicates:
        with pytest.raises(IntegrityError), transaction.atomic():
            make()
    assert Garden.objects.get().name == garden.name


@pytest.mark.parametrize(
    "tags",
    [[], ["growth"], ["café", 'say "hi"', "a, b", "日本語", "x" * 64], None],
    ids=["empty", "one", "awkward", "none"],
)
def test_tags_cached_keeps_a_list_as_it_was(tags):
    story = StoryFactory()
    Story.objects.filter(pk=story.pk).update(tags_cached=tags)
    assert Story.objects.get(pk=story.pk).tags_cached == tags
    assert Story.objects.values_list("tags_cached", flat=True).get() == tags


def test_has_finds_the_stories_holding_a_name():
    holding = StoryFactory(tags=["x", "sleep"])
    StoryFactory(tags=["xy"])
    StoryFactory(tags=[])
    empty = StoryFactory()
    Story.objects.filter(pk=empty.pk).update(tags_cached=None)
    found = Story.objects.filter(tags_cached__has="x")
    assert list(found.values_list("pk", flat=True)) == [holding.pk]
    assert not Story.objects.filter(tags_cached__has="X").exists()


def test_tags_cached_is_the_seeds_varchar_array(postgresql):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'stories'::regclass AND attname = 'tags_cached'"
        )
        assert cursor.fetchone() == ("character varying(64)[]",)


@pytest.mark.parametrize(
    "vector",
    [[1], [0.5, -2, 3e-3], [0] * VECTOR_MAX_LENGTH],
)
def test_validate_vector_accepts_finite_numbers(vector):
    validate_vector(vector)


@pytest.mark.parametrize(
    "vector",
    [
        [],
        {"a": 1},
        "1,2",
        [True],
        ["1"],
        [None],
        [float("nan")],
        [float("inf")],
        [10**400],
        [0] * (VECTOR_MAX_LENGTH + 1),
    ],
)
def test_validate_vector_refuses_anything_else(vector):
    with pytest.raises(ValidationError):
        validate_vector(vector)


# --- the seed's indexes serve their reads (PostgreSQL's planner) --------------------


def fill() -> list:
    users = UserFactory.create_batch(20)
    tags = Tag.objects.bulk_create(Tag(name=f"tag {n}") for n in range(50))
    UserTag.objects.bulk_create(UserTag(user=u, tag=t) for u in users for t in tags)
    Story.objects.bulk_create(
        Story(
            user=u,
            title=f"s{n}",
            content="c",
            tags_cached=[],
            visibility="public" if n % 10 == 0 else "private",
        )
        for u in users
        for n in range(30)
    )
    UserFeature.objects.bulk_create(
        UserFeature(user=u, vector=[1.0, n / 20]) for n, u in enumerate(users)
    )
    now = timezone.now()
    MatchResult.objects.bulk_create(
        MatchResult(
            user=u, target_user=t, score=0.5, created_at=now - timedelta(days=d)
        )
        for u in users
        for t in users
        for d in range(3)
        if u != t
    )
    return users


@pytest.mark.parametrize(
    "table, statement, index",
    [
        (
            "stories",
            "SELECT id FROM stories WHERE user_id = %s "
            "ORDER BY created_at DESC LIMIT 10",
            "idx_stories_user_created",
        ),
        (
            "stories",
            "SELECT id FROM stories WHERE visibility = 'public'",
            "idx_stories_visibility",
        ),
        (
            "user_tags",
            "SELECT user_id FROM user_tags WHERE tag_id = %s",
            "idx_user_tags_tag_id",
        ),
        (
            "match_results",
            "SELECT id FROM match_results WHERE user_id = %s "
            "ORDER BY score DESC LIMIT 10",
            "idx_match_results_user_score",
        ),
        (
            "user_features",
            "SELECT user_id FROM user_features ORDER BY updated_at LIMIT 10",
            "idx_user_features_updated",
        ),
    ],
)
def test_the_seeds_indexes_serve_their_reads(postgresql, table, statement, index):
    users = fill()
    params = []
    if "%s" in statement:
        params = [Tag.objects.first().pk if table == "user_tags" else users[0].pk]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
