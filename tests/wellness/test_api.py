"""The wellness API (seed 003) as its users see it: tags (normalised, unique,
changed by staff, renamed and deleted in every story and interest), interests
by tag name (with cursors over their composite key), stories by visibility,
habits (unique names per user, also when two requests race), one garden,
feature vectors and the matches made from them; a walk of the schema where
another user gets 404 on every verb of someone's private rows; constant list
costs; 401 for anonymous callers; strict JSON; and the profile's
journaling_frequency (0 to 7)."""

import functools
import math
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from profiles.models import UserProfile
from tests.conftest import token_client
from tests.helpers import (
    assert_error,
    assert_list_queries_constant,
    error_fields,
    ok,
    results,
)
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
)

pytestmark = pytest.mark.django_db

API = "/api/wellness/"
TAGS = f"{API}tags/"
USER_TAGS = f"{API}user-tags/"
REMOVE = f"{USER_TAGS}remove/"
STORIES = f"{API}stories/"
HABITS = f"{API}habits/"
GARDENS = f"{API}gardens/"
FEATURES = f"{API}user-features/"
MATCHES = f"{API}match-results/"
REFRESH = f"{MATCHES}refresh/"
MISSING_USER = "00000000-0000-0000-0000-000000000000"
METHODS = ("get", "put", "patch", "delete")


def send(client, method: str, url: str, body: dict):
    """``method`` on ``url`` with ``body``; a GET sends none (its data would
    be query parameters, which a row's URL does not take)."""
    return getattr(client, method)(
        url, None if method == "get" else body, format="json"
    )


# --- helpers ------------------------------------------------------------------------


def first_error(response) -> tuple[str, str]:
    return error_fields(response)[0]


def ids(response) -> list:
    return [row["id"] for row in results(response)]


def aged(instance, minutes: int, *fields: str):
    """Move ``fields`` of ``instance`` ``minutes`` into the past
    (``QuerySet.update`` leaves ``updated_at`` alone) and read it back."""
    model = type(instance)
    model.objects.filter(pk=instance.pk).update(
        **{
            field: getattr(instance, field) - timedelta(minutes=minutes)
            for field in fields
        }
    )
    return model.objects.get(pk=instance.pk)


def row(instance) -> dict:
    """The row of ``instance`` as the database has it now."""
    return type(instance).objects.filter(pk=instance.pk).values().get()


def user_ids(response) -> set[str]:
    return {row["user_id"] for row in results(response)}


def story_tags(story) -> list[str]:
    return Story.objects.get(pk=story.pk).tags_cached


# --- 1. tags ------------------------------------------------------------------------


def test_staff_create_a_tag_under_its_trimmed_lower_case_name(staff_client):
    body = ok(staff_client.post(TAGS, {"name": " Meditation "}), 201)
    tag = Tag.objects.get()
    assert tag.name == "meditation"
    assert body["id"] == tag.pk and body["name"] == "meditation"
    assert body["created_at"]
    assert ok(staff_client.get(f"{TAGS}{tag.pk}/"))["name"] == "meditation"


@pytest.mark.parametrize("name", ["meditation", "MEDITATION", "  Meditation\t"])
def test_a_tag_name_exists_once_in_any_case_or_spacing(staff_client, name):
    Tag.objects.create(name="meditation")
    response = staff_client.post(TAGS, {"name": name})
    body = assert_error(response, 400, "invalid")
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == (
        "name",
        "unique",
    )
    assert list(Tag.objects.values_list("name", flat=True)) == ["meditation"]


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "x" * 65, "  " + "Y" * 65])
def test_a_blank_or_too_long_tag_name_is_a_400(staff_client, name):
    response = staff_client.post(TAGS, {"name": name})
    assert first_error(response)[0] == "name"
    assert not Tag.objects.exists()


def test_a_64_character_name_fits_once_trimmed(staff_client):
    body = ok(staff_client.post(TAGS, {"name": "  " + "Y" * 64 + "  "}), 201)
    assert body["name"] == "y" * 64


def test_an_ordinary_user_reads_tags_but_cannot_change_them(api_client):
    tag = Tag.objects.create(name="sleep")
    url = f"{TAGS}{tag.pk}/"
    assert ids(api_client.get(TAGS)) == [tag.pk]
    assert ok(api_client.get(url))["name"] == "sleep"
    for response in (
        api_client.post(TAGS, {"name": "new"}),
        api_client.put(url, {"name": "renamed"}),
        api_client.patch(url, {"name": "renamed"}),
        api_client.delete(url),
    ):
        assert_error(response, 403, "permission_denied")
    assert list(Tag.objects.values_list("name", flat=True)) == ["sleep"]


def test_staff_rename_a_tag_with_put_or_patch_and_delete_it(staff_client):
    tag = Tag.objects.create(name="sleep")
    url = f"{TAGS}{tag.pk}/"
    assert ok(staff_client.put(url, {"name": " Rest "}))["name"] == "rest"
    assert ok(staff_client.patch(url, {"name": "NAPS"}))["name"] == "naps"
    assert ok(staff_client.patch(url, {"name": "Naps"}))["name"] == "naps"  # itself
    assert Tag.objects.get(pk=tag.pk).name == "naps"
    ok(staff_client.delete(url), 204)
    assert not Tag.objects.exists()
    assert_error(staff_client.get(url), 404, "not_found")


def test_renaming_a_tag_onto_another_is_a_400_and_changes_nothing(staff_client, user):
    sleep, rest = Tag.objects.create(name="sleep"), Tag.objects.create(name="rest")
    story = StoryFactory(user=user, tags=["sleep", "rest"])
    response = staff_client.patch(f"{TAGS}{sleep.pk}/", {"name": " REST "})
    assert first_error(response) == ("name", "unique")
    assert Tag.objects.get(pk=sleep.pk).name == "sleep"
    assert Tag.objects.get(pk=rest.pk).name == "rest"
    assert story_tags(story) == ["sleep", "rest"]


def test_renaming_a_tag_renames_it_in_every_story(staff_client, user, other_user):
    mine = StoryFactory(user=user, tags=["Runing", "sleep", "yoga"])
    theirs = StoryFactory(user=other_user, tags=["runing"], visibility="public")
    untouched = StoryFactory(user=user, tags=["sleep"])
    tag = Tag.objects.get(name="runing")
    body = ok(staff_client.patch(f"{TAGS}{tag.pk}/", {"name": "Running"}))
    assert body == {**body, "id": tag.pk, "name": "running"}
    assert story_tags(mine) == ["running", "sleep", "yoga"]  # in place, in order
    assert story_tags(theirs) == ["running"]
    assert story_tags(untouched) == ["sleep"]
    owner = token_client(user)
    assert set(ids(owner.get(f"{STORIES}?tag=running"))) == {mine.pk, theirs.pk}
    assert ids(owner.get(f"{STORIES}?tag=runing")) == []
    assert ok(owner.get(f"{STORIES}{mine.pk}/"))["tags"] == ["running", "sleep", "yoga"]


def test_deleting_a_tag_removes_it_from_stories_and_interests(
    staff_client, user, other_user
):
    story = StoryFactory(user=user, tags=["sleep", "yoga", "tea"])
    other = StoryFactory(user=other_user, tags=["yoga"], visibility="public")
    for person in (user, other_user):
        services.interest_add(user=person, tag="yoga")
    services.interest_add(user=user, tag="tea")
    yoga = Tag.objects.get(name="yoga")
    ok(staff_client.delete(f"{TAGS}{yoga.pk}/"), 204)
    assert not Tag.objects.filter(name="yoga").exists()
    assert story_tags(story) == ["sleep", "tea"]
    assert story_tags(other) == []
    assert list(UserTag.objects.values_list("user_id", "tag__name")) == [
        (user.pk, "tea")
    ]
    client = token_client(user)
    assert [r["tag_name"] for r in results(client.get(f"{USER_TAGS}{user.pk}/"))] == [
        "tea"
    ]
    assert user_ids(client.get(f"{USER_TAGS}?tag=yoga")) == set()


def test_tags_filter_by_name_in_any_case(api_client):
    for name in ("meditation", "medicine", "sleep"):
        Tag.objects.create(name=name)
    for value in ("meditation", "MEDITATION", " Meditation "):
        rows = results(api_client.get(TAGS, {"name": value}))
        assert [r["name"] for r in rows] == ["meditation"], value
    assert results(api_client.get(TAGS, {"name": "medit"})) == []  # exact name
    listed = [r["name"] for r in results(api_client.get(TAGS))]
    assert listed == ["medicine", "meditation", "sleep"]  # by name


# --- 2. interests -------------------------------------------------------------------


def test_adding_an_interest_by_a_new_name_makes_the_tag(api_client, user):
    body = ok(api_client.post(USER_TAGS, {"tag": "Yoga"}), 201)
    tag = Tag.objects.get()
    assert tag.name == "yoga"
    assert body == {"user_id": str(user.pk), "tag_id": tag.pk, "tag_name": "yoga"}
    assert list(UserTag.objects.values_list("user_id", "tag_id")) == [(user.pk, tag.pk)]


def test_adding_an_interest_in_an_existing_tag_reuses_it(api_client, user):
    tag = Tag.objects.create(name="yoga")
    body = ok(api_client.post(USER_TAGS, {"tag": "  YOGA "}), 201)
    assert body["tag_id"] == tag.pk
    assert Tag.objects.count() == 1


def test_a_second_add_of_one_interest_is_a_400_on_tag(api_client, user):
    ok(api_client.post(USER_TAGS, {"tag": "Yoga"}), 201)
    response = api_client.post(USER_TAGS, {"tag": "yoga "})
    body = assert_error(response, 400, "invalid")
    assert (body["errors"][0]["field"], body["errors"][0]["code"]) == (
        "tag",
        "unique",
    )
    assert UserTag.objects.filter(user=user).count() == 1
    assert Tag.objects.count() == 1


@pytest.mark.parametrize("tag", ["", "   ", "x" * 65])
def test_a_blank_or_too_long_interest_is_a_400(api_client, tag):
    assert first_error(api_client.post(USER_TAGS, {"tag": tag}))[0] == "tag"
    assert not UserTag.objects.exists() and not Tag.objects.exists()


def test_user_tags_filter_by_tag_name_and_by_user(api_client, user):
    yogis = [user, *UserFactory.create_batch(2)]
    others = UserFactory.create_batch(2)
    for person in yogis:
        services.interest_add(user=person, tag="yoga")
    for person in others:
        services.interest_add(user=person, tag="tea")
    services.interest_add(user=yogis[1], tag="tea")
    expected = {str(person.pk) for person in yogis}
    for value in ("yoga", "YOGA", " Yoga "):
        rows = results(api_client.get(USER_TAGS, {"tag": value}))
        assert {r["user_id"] for r in rows} == expected, value
        assert {r["tag_name"] for r in rows} == {"yoga"}
    assert results(api_client.get(USER_TAGS, {"tag": "nothing"})) == []
    mine = results(api_client.get(USER_TAGS, {"user_id": str(yogis[1].pk)}))
    assert sorted(r["tag_name"] for r in mine) == ["tea", "yoga"]
    assert {r["user_id"] for r in mine} == {str(yogis[1].pk)}
    response = api_client.get(USER_TAGS, {"user_id": "not-a-uuid"})
    assert first_error(response)[0] == "user_id"


def test_an_inactive_users_interests_are_not_listed(api_client):
    gone = UserFactory()
    services.interest_add(user=gone, tag="yoga")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert results(api_client.get(USER_TAGS, {"tag": "yoga"})) == []
    assert_error(api_client.get(f"{USER_TAGS}{gone.pk}/"), 404, "not_found")


def test_removing_an_interest_by_name(api_client, user, other_user):
    services.interest_add(user=user, tag="yoga")
    services.interest_add(user=user, tag="tea")
    services.interest_add(user=other_user, tag="yoga")
    ok(api_client.post(REMOVE, {"tag": "YOGA"}), 204)
    assert not UserTag.objects.filter(user=user, tag__name="yoga").exists()
    assert UserTag.objects.filter(user=user, tag__name="tea").exists()
    assert UserTag.objects.filter(user=other_user, tag__name="yoga").exists()
    assert Tag.objects.filter(name="yoga").exists()  # the tag stays
    assert_error(api_client.post(REMOVE, {"tag": "yoga"}), 404, "not_found")
    assert_error(api_client.post(REMOVE, {"tag": "never"}), 404, "not_found")
    assert first_error(api_client.post(REMOVE, {"tag": "  "}))[0] == "tag"
    assert UserTag.objects.count() == 2


def test_one_users_interests_are_listed_under_their_id(api_client, user, other_user):
    services.interest_add(user=other_user, tag="yoga")
    services.interest_add(user=other_user, tag="tea")
    services.interest_add(user=user, tag="sleep")
    rows = ok(api_client.get(f"{USER_TAGS}{other_user.pk}/"))
    tags = {tag.name: tag.pk for tag in Tag.objects.all()}
    assert rows == [
        {"user_id": str(other_user.pk), "tag_id": tags[name], "tag_name": name}
        for name in sorted(("yoga", "tea"), key=tags.get)
    ]
    nobody = UserFactory()
    assert ok(api_client.get(f"{USER_TAGS}{nobody.pk}/")) == []
    missing = api_client.get(f"{USER_TAGS}{MISSING_USER}/")
    assert_error(missing, 404, "not_found")


def test_an_interest_is_read_by_anyone_but_deleted_only_by_its_user(
    api_client, user, other_user
):
    services.interest_add(user=other_user, tag="yoga")
    tag = Tag.objects.get()
    theirs = f"{USER_TAGS}{other_user.pk}/{tag.pk}/"
    expected = {"user_id": str(other_user.pk), "tag_id": tag.pk, "tag_name": "yoga"}
    assert ok(api_client.get(theirs)) == expected
    assert ok(token_client(UserFactory()).get(theirs)) == expected
    assert_error(api_client.delete(theirs), 404, "not_found")
    assert UserTag.objects.filter(user=other_user, tag=tag).exists()
    assert_error(
        api_client.get(f"{USER_TAGS}{user.pk}/{tag.pk}/"), 404, "not_found"
    )  # not one of mine
    services.interest_add(user=user, tag="yoga")
    ok(api_client.delete(f"{USER_TAGS}{user.pk}/{tag.pk}/"), 204)
    assert not UserTag.objects.filter(user=user).exists()
    assert UserTag.objects.filter(user=other_user, tag=tag).exists()
    assert_error(api_client.delete(f"{USER_TAGS}{user.pk}/{tag.pk}/"), 404, "not_found")


def test_user_tags_pages_of_2_give_every_row_once(api_client):
    people = UserFactory.create_batch(3)
    for person in people:
        for name in ("a", "b", "c"):  # rows that share a user_id cross pages
            services.interest_add(user=person, tag=name)
    services.interest_add(user=people[0], tag="d")
    seen, url, pages = [], f"{USER_TAGS}?page_size=2", 0
    while url:
        body = ok(api_client.get(url))
        assert len(body["results"]) <= 2
        seen += [(r["user_id"], r["tag_id"]) for r in body["results"]]
        url, pages = body["next"], pages + 1
    expected = {(str(u), t) for u, t in UserTag.objects.values_list("user_id", "tag")}
    assert len(seen) == len(expected) == 10
    assert set(seen) == expected
    assert pages == 5
    # and back again from the last page
    back, url = [], body["previous"]
    while url:
        page = ok(api_client.get(url))
        back = [(r["user_id"], r["tag_id"]) for r in page["results"]] + back
        url = page["previous"]
    assert back == seen[: len(back)] and len(back) == 8


# --- 3. stories ---------------------------------------------------------------------


def story_body(**fields) -> dict:
    return {"title": "A title", "content": "Some words.", **fields}


def test_a_story_takes_tag_names_and_makes_the_tags(api_client, user):
    tags = ["Growth", "growth", " new one "]
    body = ok(api_client.post(STORIES, story_body(tags=tags)), 201)
    assert body["tags"] == ["growth", "new one"]
    assert body["user_id"] == str(user.pk)
    assert body["visibility"] == "private"  # the default
    assert body["created_at"] == body["updated_at"]
    assert set(Tag.objects.values_list("name", flat=True)) == {"growth", "new one"}
    story = Story.objects.get()
    assert story.tags_cached == ["growth", "new one"]
    assert (story.title, story.content) == ("A title", "Some words.")
    assert ok(api_client.get(f"{STORIES}{story.pk}/"))["tags"] == ["growth", "new one"]


def test_a_story_without_tags_has_an_empty_list(api_client):
    body = ok(api_client.post(STORIES, story_body()), 201)
    assert body["tags"] == []
    assert ok(api_client.get(f"{STORIES}{body['id']}/"))["tags"] == []


def test_public_stories_are_read_by_every_signed_in_user(user, other_user):
    story = StoryFactory(user=user, visibility="public", tags=["yoga"])
    reader = token_client(other_user)
    assert ids(reader.get(STORIES)) == [story.pk]
    body = ok(reader.get(f"{STORIES}{story.pk}/"))
    assert (body["id"], body["user_id"], body["tags"]) == (
        story.pk,
        str(user.pk),
        ["yoga"],
    )


@pytest.mark.parametrize("visibility", ["private", "friends"])
def test_private_and_friends_stories_are_404_to_others_on_every_verb(
    user, other_user, visibility
):
    story = StoryFactory(user=user, visibility=visibility, tags=["secret"])
    before = row(story)
    url = f"{STORIES}{story.pk}/"
    stranger = token_client(other_user)
    for method in METHODS:
        response = send(
            stranger, method, url, story_body(title="taken over", visibility="public")
        )
        assert_error(response, 404, "not_found")
    assert row(story) == before
    assert ids(stranger.get(STORIES)) == []
    assert ids(stranger.get(STORIES, {"user_id": str(user.pk)})) == []
    assert ids(stranger.get(STORIES, {"visibility": visibility})) == []
    assert ids(stranger.get(STORIES, {"tag": "secret"})) == []
    assert "secret" not in stranger.get(STORIES).content.decode()
    # the author sees it, in the list and alone
    author = token_client(user)
    assert ids(author.get(STORIES)) == [story.pk]
    assert ok(author.get(url))["visibility"] == visibility


def test_another_users_public_story_cannot_be_changed(user, other_user):
    story = StoryFactory(user=user, visibility="public", tags=["yoga"])
    before = row(story)
    url = f"{STORIES}{story.pk}/"
    stranger = token_client(other_user)
    assert_error(stranger.patch(url, {"title": "mine"}), 403, "permission_denied")
    assert_error(
        stranger.put(url, story_body(title="mine", tags=[])), 403, "permission_denied"
    )
    assert_error(stranger.delete(url), 403, "permission_denied")
    assert row(story) == before
    assert not Tag.objects.filter(name="mine").exists()


def test_stories_filter_by_tag_user_and_visibility(user, other_user):
    client = token_client(user)
    mine_public = StoryFactory(user=user, visibility="public", tags=["sleep"])
    mine_private = StoryFactory(user=user, visibility="private", tags=["Sleep", "tea"])
    mine_friends = StoryFactory(user=user, visibility="friends", tags=["tea"])
    theirs_public = StoryFactory(user=other_user, visibility="public", tags=["sleep"])
    StoryFactory(user=other_user, visibility="private", tags=["sleep"])

    def listed(**query) -> set:
        return set(ids(client.get(STORIES, query)))

    assert listed(tag="SLEEP") == {mine_public.pk, mine_private.pk, theirs_public.pk}
    assert listed(tag=" tea ") == {mine_private.pk, mine_friends.pk}
    assert listed(tag="none") == set()
    assert listed(user_id=str(other_user.pk)) == {theirs_public.pk}
    assert listed(user_id=str(user.pk)) == {
        mine_public.pk,
        mine_private.pk,
        mine_friends.pk,
    }
    assert listed(visibility="public") == {mine_public.pk, theirs_public.pk}
    assert listed(visibility="private") == {mine_private.pk}
    assert listed(visibility="friends") == {mine_friends.pk}
    assert listed(visibility="public", tag="sleep", user_id=str(user.pk)) == {
        mine_public.pk
    }
    assert first_error(client.get(STORIES, {"visibility": "secret"}))[0] == (
        "visibility"
    )


def test_stories_are_listed_newest_first(user, other_user):
    client = token_client(user)
    stories = [
        StoryFactory(user=user, visibility="private"),
        StoryFactory(user=other_user, visibility="public"),
        StoryFactory(user=user, visibility="public"),
    ]
    # created a day, an hour and a minute ago, out of their id order
    stories = [
        aged(stories[0], 60, "created_at", "updated_at"),
        aged(stories[1], 24 * 60, "created_at", "updated_at"),
        aged(stories[2], 1, "created_at", "updated_at"),
    ]
    expected = [stories[2].pk, stories[0].pk, stories[1].pk]
    assert ids(client.get(STORIES)) == expected
    seen, url = [], f"{STORIES}?page_size=1"
    while url:
        body = ok(client.get(url))
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert seen == expected


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"visibility": "secret"}, "visibility"),
        ({"visibility": "PUBLIC"}, "visibility"),
        ({"title": "x" * 141}, "title"),
        ({"title": "   "}, "title"),
        ({"content": ""}, "content"),
        ({"tags": [" "]}, "tags.0"),
        ({"tags": ["x" * 65]}, "tags"),
        ({"tags": [f"t{n}" for n in range(21)]}, "tags"),
    ],
    ids=[
        "unknown visibility",
        "visibility in capitals",
        "title of 141",
        "blank title",
        "empty content",
        "blank tag",
        "tag too long",
        "21 tags",
    ],
)
def test_bad_story_input_is_a_400_naming_the_field(api_client, fields, field):
    response = api_client.post(STORIES, story_body(**fields))
    assert [f for f, _ in error_fields(response)] == [field]
    assert not Story.objects.exists()
    assert not Tag.objects.exists()


def test_a_title_of_140_characters_fits(api_client):
    body = ok(api_client.post(STORIES, story_body(title="é" * 140)), 201)
    assert body["title"] == "é" * 140


def test_updating_a_story_replaces_its_tags_and_moves_updated_at(api_client, user):
    story = StoryFactory(user=user, tags=["growth", "sleep"])
    story = aged(story, 5, "created_at", "updated_at")
    url = f"{STORIES}{story.pk}/"
    body = ok(
        api_client.patch(url, {"tags": ["Tea", "growth"], "visibility": "public"})
    )
    assert body["tags"] == ["tea", "growth"]
    assert body["visibility"] == "public"
    changed = Story.objects.get(pk=story.pk)
    assert changed.tags_cached == ["tea", "growth"]
    assert changed.updated_at > story.updated_at
    assert changed.created_at == story.created_at
    assert Tag.objects.filter(name="tea").exists()
    # a change that leaves tags out keeps them; an empty list clears them
    body = ok(api_client.patch(url, {"title": "New title"}))
    assert body["tags"] == ["tea", "growth"] and body["title"] == "New title"
    body = ok(api_client.put(url, story_body(title="Put", tags=["one"])))
    assert body["tags"] == ["one"] and body["title"] == "Put"
    assert ok(api_client.patch(url, {"tags": []}))["tags"] == []
    assert Story.objects.get(pk=story.pk).tags_cached == []
    response = api_client.patch(url, {"visibility": "nope"})
    assert [f for f, _ in error_fields(response)] == ["visibility"]
    assert Story.objects.get(pk=story.pk).visibility == "public"


def test_the_author_deletes_a_story(api_client, user):
    story = StoryFactory(user=user, tags=["growth"])
    ok(api_client.delete(f"{STORIES}{story.pk}/"), 204)
    assert not Story.objects.exists()
    assert Tag.objects.filter(name="growth").exists()


def test_a_tag_filter_longer_than_any_tag_finds_nothing(postgresql, api_client, user):
    StoryFactory(user=user, tags=["x" * 64])
    assert ids(api_client.get(STORIES, {"tag": "x" * 64})) != []
    assert ids(api_client.get(STORIES, {"tag": "x" * 64 + "yz"})) == []


# --- 4. habits ----------------------------------------------------------------------


def test_a_habit_is_created_for_the_caller(api_client, user):
    body = ok(
        api_client.post(
            HABITS, {"name": "Walk", "frequency": "daily", "meta": {"minutes": 10}}
        ),
        201,
    )
    habit = Habit.objects.get()
    assert body == {
        **body,
        "id": habit.pk,
        "user_id": str(user.pk),
        "name": "Walk",
        "frequency": "daily",
        "meta": {"minutes": 10},
    }
    assert (habit.user_id, habit.meta) == (user.pk, {"minutes": 10})
    assert ok(api_client.post(HABITS, {"name": "Read"}), 201)["meta"] == {}


@pytest.mark.parametrize("name", ["Walk", " Walk "])
def test_a_duplicate_habit_name_of_one_user_is_a_400_on_name(api_client, user, name):
    HabitFactory(user=user, name="Walk", frequency="daily")
    response = api_client.post(HABITS, {"name": name, "frequency": "weekly"})
    assert first_error(response) == ("name", "unique")
    assert list(Habit.objects.values_list("name", "frequency")) == [("Walk", "daily")]


def test_two_users_may_have_habits_of_one_name(api_client, user, other_user):
    HabitFactory(user=other_user, name="Walk")
    ok(api_client.post(HABITS, {"name": "Walk"}), 201)
    ok(token_client(UserFactory()).post(HABITS, {"name": "Walk"}), 201)
    assert Habit.objects.filter(name="Walk").count() == 3
    assert [h["name"] for h in results(api_client.get(HABITS))] == ["Walk"]


@pytest.mark.parametrize("meta", [[1, 2], [], "x", "{}", 3, True], ids=repr)
def test_habit_meta_must_be_a_json_object(api_client, meta):
    response = api_client.post(HABITS, {"name": "Walk", "meta": meta})
    assert [f for f, _ in error_fields(response)] == ["meta"]
    assert not Habit.objects.exists()


@pytest.mark.parametrize("frequency", ["daily", "weekly", "monthly", "custom", None])
def test_a_habit_frequency_is_a_choice_or_null(api_client, frequency):
    body = ok(api_client.post(HABITS, {"name": "Walk", "frequency": frequency}), 201)
    assert body["frequency"] == frequency
    assert Habit.objects.get().frequency == frequency


@pytest.mark.parametrize("frequency", ["hourly", "Daily", " daily", 1])
def test_any_other_habit_frequency_is_a_400(api_client, frequency):
    response = api_client.post(HABITS, {"name": "Walk", "frequency": frequency})
    assert [f for f, _ in error_fields(response)] == ["frequency"]
    assert not Habit.objects.exists()


def test_an_empty_habit_frequency_is_a_400_not_a_500(api_client):
    api_client.raise_request_exception = False
    response = api_client.post(HABITS, {"name": "Walk", "frequency": ""})
    assert response.status_code == 400, response.content
    assert [f for f, _ in error_fields(response)] == ["frequency"]


def test_a_meta_with_an_integer_beyond_64_bits_is_not_a_500(api_client):
    api_client.raise_request_exception = False
    text = '{"name": "Walk", "meta": {"steps": 18446744073709551616}}'
    response = api_client.post(HABITS, text, content_type="application/json")
    assert response.status_code in (201, 400), response.content


def test_a_large_float_in_meta_reads_back(postgresql, api_client):
    api_client.raise_request_exception = False
    text = '{"name": "Walk", "meta": {"steps": 1e20}}'
    response = api_client.post(HABITS, text, content_type="application/json")
    assert response.status_code == 201, response.content
    assert results(api_client.get(HABITS))[0]["meta"] == {"steps": 1e20}


def test_renaming_a_habit_to_another_of_ones_own_is_a_400(api_client, user, other_user):
    walk = HabitFactory(user=user, name="Walk")
    read = HabitFactory(user=user, name="Read")
    HabitFactory(user=other_user, name="Swim")
    url = f"{HABITS}{read.pk}/"
    assert first_error(api_client.patch(url, {"name": "Walk"})) == ("name", "unique")
    response = api_client.put(url, {"name": " Walk ", "frequency": "daily"})
    assert first_error(response) == ("name", "unique")
    assert Habit.objects.get(pk=read.pk).name == "Read"
    assert Habit.objects.get(pk=walk.pk).name == "Walk"
    # its own name, or another user's, is fine
    assert (
        ok(api_client.patch(url, {"name": "Read", "frequency": "weekly"}))["frequency"]
        == "weekly"
    )
    assert ok(api_client.patch(url, {"name": "Swim"}))["name"] == "Swim"
    assert Habit.objects.filter(name="Swim").count() == 2


def test_habits_filter_by_frequency_and_list_by_name(api_client, user):
    for name, frequency in (("b", "daily"), ("a", "weekly"), ("c", "daily")):
        HabitFactory(user=user, name=name, frequency=frequency)
    HabitFactory(name="d", frequency="daily")  # another user's
    assert [h["name"] for h in results(api_client.get(HABITS))] == ["a", "b", "c"]
    daily = results(api_client.get(HABITS, {"frequency": "daily"}))
    assert [h["name"] for h in daily] == ["b", "c"]


def test_a_user_has_one_garden(api_client, user):
    body = ok(api_client.post(GARDENS, {"name": "Mine", "theme": "zen"}), 201)
    assert body == {**body, "user_id": str(user.pk), "name": "Mine", "theme": "zen"}
    for again in ({"name": "Another"}, {"name": "Mine", "theme": "wild"}):
        response = api_client.post(GARDENS, again)
        assert 400 <= response.status_code < 500, response.content
        assert_error(response, 400, "invalid")
    assert list(Garden.objects.values_list("user_id", "name", "theme")) == [
        (user.pk, "Mine", "zen")
    ]
    assert [g["id"] for g in ok(api_client.get(GARDENS))] == [body["id"]]


def test_a_garden_changes_and_a_blank_theme_is_null(api_client, user):
    garden = GardenFactory(user=user, theme="zen")
    url = f"{GARDENS}{garden.pk}/"
    body = ok(api_client.patch(url, {"theme": ""}))
    assert body["theme"] is None and Garden.objects.get().theme is None
    assert ok(api_client.put(url, {"name": "Renamed"}))["name"] == "Renamed"
    ok(api_client.delete(url), 204)
    assert not Garden.objects.exists()
    ok(api_client.post(GARDENS, {"name": "Again"}), 201)  # one may start over


def test_another_users_garden_is_404_on_every_verb(user, other_user):
    garden = GardenFactory(user=user, name="Mine", theme="zen")
    before = row(garden)
    url = f"{GARDENS}{garden.pk}/"
    stranger = token_client(other_user)
    for method in METHODS:
        response = send(stranger, method, url, {"name": "taken"})
        assert_error(response, 404, "not_found")
    assert row(garden) == before
    assert ok(stranger.get(GARDENS)) == []
    ok(stranger.post(GARDENS, {"name": "Theirs"}), 201)  # their own is separate
    assert Garden.objects.count() == 2


# --- 6. user features ---------------------------------------------------------------


@pytest.mark.parametrize(
    "vector",
    [
        [1.0] * (VECTOR_MAX_LENGTH + 1),
        [],
        ["a"],
        ["1"],
        [True],
        [None],
        [[1]],
        [{"a": 1}],
        "1,2",
        {"a": 1},
        1,
    ],
    ids=[
        "65 items",
        "empty",
        "string",
        "numeric string",
        "boolean",
        "null",
        "nested",
        "object item",
        "text",
        "object",
        "number",
    ],
)
def test_a_bad_vector_is_a_400_on_vector(api_client, vector):
    response = api_client.post(FEATURES, {"vector": vector})
    fields = {f for f, _ in error_fields(response)}
    assert fields and all(f == "vector" or f.startswith("vector.") for f in fields)
    assert not UserFeature.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        '{"vector": [1e400]}',
        '{"vector": [1, -1e400]}',
        '{"vector": [1' + "0" * 400 + "]}",
    ],
    ids=["1e400", "-1e400", "integer beyond floats"],
)
def test_a_vector_beyond_finite_floats_is_a_400(api_client, text):
    response = api_client.post(FEATURES, text, content_type="application/json")
    fields = {f for f, _ in error_fields(response)}
    assert fields and all(f.startswith("vector") for f in fields)
    assert not UserFeature.objects.exists()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_constants_are_a_400(api_client, constant):
    text = f'{{"vector": [1, {constant}]}}'
    response = api_client.post(FEATURES, text, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not UserFeature.objects.exists()


@pytest.mark.parametrize(
    "vector",
    [[1, 2, 3], [0.5, -0.25], [1, 0.5, -2, 0], [0.1] * VECTOR_MAX_LENGTH, [1e18]],
    ids=["ints", "floats", "mixed", "64 items", "large"],
)
def test_ints_and_floats_make_a_vector(api_client, user, vector):
    body = ok(api_client.post(FEATURES, {"vector": vector}), 201)
    assert body["vector"] == vector and body["version"] == 1
    assert body["user_id"] == str(user.pk)
    feature = UserFeature.objects.get()
    assert feature.user_id == user.pk
    # JSON numbers: PostgreSQL's jsonb gives 1e18 back as 1000...0
    assert [float(x) for x in feature.vector] == [float(x) for x in vector]
    read = ok(api_client.get(f"{FEATURES}{user.pk}/"))["vector"]
    assert [float(x) for x in read] == [float(x) for x in vector]


@pytest.mark.parametrize("number", ["1e20", "-3.5e25", "1e300"])
def test_a_large_finite_number_in_a_vector_reads_back(
    postgresql, api_client, user, number
):
    text = f'{{"vector": [1, {number}]}}'
    ok(api_client.post(FEATURES, text, content_type="application/json"), 201)
    api_client.raise_request_exception = False
    read = ok(api_client.get(f"{FEATURES}{user.pk}/"))["vector"]
    assert read == [1.0, float(number)]
    assert ok(api_client.get(FEATURES))[0]["vector"] == [1.0, float(number)]


@pytest.mark.parametrize("version", [0, -1, 2**31])
def test_a_version_is_at_least_1(api_client, version):
    response = api_client.post(FEATURES, {"vector": [1], "version": version})
    assert [f for f, _ in error_fields(response)] == ["version"]
    assert not UserFeature.objects.exists()


def test_a_second_vector_is_a_400_and_the_first_stays(api_client, user):
    ok(api_client.post(FEATURES, {"vector": [1, 2], "version": 3}), 201)
    response = api_client.post(FEATURES, {"vector": [9], "version": 1})
    assert first_error(response) == ("user_id", "unique")
    feature = UserFeature.objects.get()
    assert (feature.vector, feature.version) == ([1, 2], 3)


def test_changing_a_vector_moves_updated_at(api_client, user):
    feature = aged(UserFeatureFactory(user=user, vector=[1.0, 0.0]), 5, "updated_at")
    url = f"{FEATURES}{user.pk}/"
    assert ok(api_client.get(url))["vector"] == [1.0, 0.0]
    body = ok(api_client.patch(url, {"vector": [0, 1, 2]}))
    assert body["vector"] == [0, 1, 2] and body["version"] == 1
    changed = UserFeature.objects.get(pk=user.pk)
    assert changed.vector == [0, 1, 2]
    assert changed.updated_at > feature.updated_at
    body = ok(api_client.put(url, {"vector": [3.5], "version": 2}))
    assert (body["vector"], body["version"]) == ([3.5], 2)
    response = api_client.patch(url, {"vector": []})
    assert first_error(response)[0].startswith("vector")
    assert UserFeature.objects.get(pk=user.pk).vector == [3.5]
    ok(api_client.delete(url), 204)
    assert not UserFeature.objects.exists()


def test_another_users_vector_is_404_on_every_verb(user, other_user):
    feature = UserFeatureFactory(user=user, vector=[1.0, 0.0], version=2)
    before = row(feature)
    url = f"{FEATURES}{user.pk}/"
    stranger = token_client(other_user)
    for method in METHODS:
        response = send(stranger, method, url, {"vector": [9.0], "version": 1})
        assert_error(response, 404, "not_found")
    assert row(feature) == before
    assert ok(stranger.get(FEATURES)) == []
    assert_error(stranger.get(f"{FEATURES}{MISSING_USER}/"), 404, "not_found")


# --- 7. matching over HTTP ----------------------------------------------------------


def test_refresh_matches_vectors_of_one_version_and_length(api_client, user):
    UserFeatureFactory(user=user, vector=[1.0, 0.0], version=1)
    near = UserFeatureFactory(vector=[1.0, 1.0], version=1).user
    other_version = UserFeatureFactory(vector=[1.0, 0.0], version=2).user
    other_length = UserFeatureFactory(vector=[1.0, 0.0, 0.0], version=1).user
    rows = ok(api_client.post(REFRESH))
    assert [r["target_user_id"] for r in rows] == [str(near.pk)]
    match = rows[0]
    assert 0 < match["score"] <= 1
    assert math.isclose(match["score"], math.sqrt(0.5), rel_tol=1e-9)
    assert match["user_id"] == str(user.pk)
    assert match["target_user"] == {"id": str(near.pk), "username": near.username}
    assert ok(api_client.get(MATCHES)) == rows
    stored = MatchResult.objects.filter(user=user)
    assert list(stored.values_list("target_user_id", flat=True)) == [near.pk]
    never = {str(other_version.pk), str(other_length.pk)}
    assert not never & {r["target_user_id"] for r in ok(api_client.get(MATCHES))}


def test_an_identical_vector_scores_at_most_1(api_client, user):
    UserFeatureFactory(user=user, vector=[0.1, 0.2, 0.3])
    twin = UserFeatureFactory(vector=[0.1, 0.2, 0.3]).user
    UserFeatureFactory(vector=[-0.1, -0.2, -0.3])  # opposite: no match
    rows = ok(api_client.post(REFRESH))
    assert [r["target_user_id"] for r in rows] == [str(twin.pk)]
    assert 0.999999 < rows[0]["score"] <= 1


def test_refresh_without_a_vector_gives_no_matches(api_client, user):
    UserFeatureFactory(vector=[1.0, 0.0])
    assert ok(api_client.post(REFRESH)) == []
    assert ok(api_client.get(MATCHES)) == []


def test_refresh_replaces_the_callers_batch_best_first(api_client, user):
    UserFeatureFactory(user=user, vector=[1.0, 0.0])
    others = {y: UserFeatureFactory(vector=[1.0, y]).user for y in (0.9, 0.1, 0.5)}
    rows = ok(api_client.post(REFRESH))
    assert [r["target_user_id"] for r in rows] == [
        str(others[y].pk) for y in (0.1, 0.5, 0.9)
    ]
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    # the caller's vector changes: the next refresh is the whole new batch
    ok(api_client.patch(f"{FEATURES}{user.pk}/", {"vector": [1.0, 1.0]}))
    rows = ok(api_client.post(REFRESH))
    assert rows[0]["target_user_id"] == str(others[0.9].pk)
    assert MatchResult.objects.filter(user=user).count() == 3
    assert len({r["created_at"] for r in rows}) == 1


def test_the_list_is_the_latest_batch_ordered_by_score(api_client, user):
    a, b, c, d = UserFactory.create_batch(4)
    now = timezone.now()
    for target, score, when in (
        (a, 0.99, now - timedelta(hours=1)),  # an earlier batch
        (b, 0.2, now - timedelta(hours=1)),
        (b, 0.3, now),
        (c, 0.8, now),
        (d, 0.55, now),
    ):
        MatchResult.objects.create(
            user=user, target_user=target, score=score, created_at=when
        )
    MatchResult.objects.create(user=a, target_user=user, score=0.9, created_at=now)
    rows = ok(api_client.get(MATCHES))
    assert [(r["target_user_id"], r["score"]) for r in rows] == [
        (str(c.pk), 0.8),
        (str(d.pk), 0.55),
        (str(b.pk), 0.3),
    ]
    assert {r["user_id"] for r in rows} == {str(user.pk)}


def test_a_match_is_read_only_by_its_user(user, other_user):
    UserFeatureFactory(user=user, vector=[1.0, 0.0])
    UserFeatureFactory(user=other_user, vector=[1.0, 0.5])
    matching.match([user])
    mine = MatchResult.objects.get(user=user)
    url = f"{MATCHES}{mine.pk}/"
    owner = token_client(user)
    assert ok(owner.get(url))["target_user_id"] == str(other_user.pk)
    stranger = token_client(other_user)  # even the user it names
    assert_error(stranger.get(url), 404, "not_found")
    assert ok(stranger.get(MATCHES)) == []
    for method in ("put", "patch", "delete"):
        assert_error(getattr(owner, method)(url), 405, "method_not_allowed")
    assert MatchResult.objects.filter(pk=mine.pk).exists()


# --- 8. isolation: a walk of the schema ---------------------------------------------

# Path parameters that name another user's private row, and the paths they
# appear in; shared rows (tags, interests) and public stories are not here.
PRIVATE_PATHS = {
    f"{HABITS}{{habit_id}}/",
    f"{GARDENS}{{garden_id}}/",
    f"{FEATURES}{{user_id}}/",
    f"{MATCHES}{{match_result_id}}/",
    f"{STORIES}{{story_id}}/",
}


@functools.cache
def wellness_paths() -> dict[str, tuple[str, ...]]:
    """``{path: methods}`` of every wellness operation of the schema."""
    schema = APIClient().get("/api/schema/?format=json").json()
    return {
        path: tuple(m for m in ("get", "post", "put", "patch", "delete") if m in item)
        for path, item in schema["paths"].items()
        if path.startswith(API)
    }


WALK_BODIES = {
    HABITS: {"name": "taken over", "frequency": "weekly", "meta": {}},
    GARDENS: {"name": "taken over", "theme": "taken"},
    FEATURES: {"vector": [9.0, 9.0], "version": 1},
    STORIES: story_body(title="taken over", visibility="public", tags=["taken"]),
    MATCHES: {},
}


def walk_body(path: str) -> dict:
    return next(body for prefix, body in WALK_BODIES.items() if path.startswith(prefix))


def private_rows(owner, story_visibility: str) -> dict[str, str]:
    """A private row of ``owner`` in each table; their URLs by schema path."""
    UserFeatureFactory(user=owner, vector=[1.0, 0.0])
    UserFeatureFactory(vector=[1.0, 0.5])
    matching.match([owner])
    values = {
        "habit_id": HabitFactory(user=owner, name="owner's habit").pk,
        "garden_id": GardenFactory(user=owner, name="owner's garden").pk,
        "user_id": owner.pk,
        "match_result_id": MatchResult.objects.get(user=owner).pk,
        "story_id": StoryFactory(
            user=owner, title="owner's story", visibility=story_visibility
        ).pk,
    }
    urls = {}
    for path in PRIVATE_PATHS:
        (name,) = re.findall(r"{(\w+)}", path)
        urls[path] = path.replace("{" + name + "}", str(values[name]))
    return urls


def rows_of(owner) -> list[list[dict]]:
    """Every private wellness row of ``owner``: equal means untouched."""
    return [
        list(model.objects.filter(user=owner).order_by("pk").values())
        for model in (Habit, Garden, UserFeature, MatchResult, Story)
    ]


def test_the_schema_has_the_private_paths_the_walk_covers():
    paths = wellness_paths()
    shared = {
        f"{TAGS}{{tag_id}}/",
        f"{USER_TAGS}{{user_id}}/",
        f"{USER_TAGS}{{user_id}}/{{tag_id}}/",
    }
    # a new path with a parameter must join the walk or be shared on purpose
    assert {path for path in paths if "{" in path} == PRIVATE_PATHS | shared
    for path in PRIVATE_PATHS - {f"{MATCHES}{{match_result_id}}/"}:
        assert paths[path] == ("get", "put", "patch", "delete"), path
    assert paths[f"{MATCHES}{{match_result_id}}/"] == ("get",)


@pytest.mark.parametrize("story_visibility", ["private", "friends"])
def test_another_user_gets_404_on_every_verb_of_private_rows(
    user, other_user, story_visibility
):
    urls = private_rows(user, story_visibility)
    before = rows_of(user)
    stranger = token_client(other_user)
    checked = 0
    for path, url in sorted(urls.items()):
        for method in METHODS:
            response = send(stranger, method, url, walk_body(path))
            if method in wellness_paths()[path]:
                assert_error(response, 404, "not_found")
                checked += 1
            else:  # no such verb for anyone: the owner gets the same answer
                assert_error(response, 405, "method_not_allowed")
                owner_answer = getattr(token_client(user), method)(url)
                assert owner_answer.status_code == 405
    assert checked == 17
    assert rows_of(user) == before
    # and the lists never show them
    for collection in (HABITS, GARDENS, FEATURES, MATCHES, STORIES):
        body = stranger.get(collection)
        assert body.status_code == 200, body.content
        assert "owner's" not in body.content.decode(), collection
        assert str(user.pk) not in {r["user_id"] for r in results(body)}, collection


@pytest.mark.parametrize("story_visibility", ["private", "friends"])
def test_the_owner_reads_and_changes_the_same_rows(user, story_visibility):
    """The walk's bodies are valid: the 404s above are about whose row it is."""
    urls = private_rows(user, story_visibility)
    owner = token_client(user)
    for path, url in sorted(urls.items()):
        ok(owner.get(url))
        if "put" in wellness_paths()[path]:
            ok(owner.patch(url, walk_body(path), format="json"))
            ok(owner.delete(url), 204)


# --- 9. list costs ------------------------------------------------------------------


def add_stories(owner, n: int) -> None:
    """``n`` stories ``owner`` sees (theirs of any visibility, others' public)
    and ``n`` they do not (others' private and friends)."""
    for i in range(n):
        if i % 2:
            StoryFactory(user=owner, visibility="friends", tags=["a", "b"])
        else:
            StoryFactory(visibility="public", tags=["a"])
        StoryFactory(visibility="private" if i % 2 else "friends", tags=["a"])


def add_interests(owner, n: int) -> None:
    """``n`` interests of active users, and one of an inactive user."""
    for _ in range(n):
        services.interest_add(user=UserFactory(), tag="x")
    services.interest_add(user=UserFactory(is_active=False), tag="x")


def add_habits(owner, n: int) -> None:
    """``n`` habits of ``owner`` and ``n`` of someone else."""
    HabitFactory.create_batch(n, user=owner, meta={"m": 1})
    HabitFactory.create_batch(n)


def add_tags(owner, n: int) -> None:
    start = Tag.objects.count()
    Tag.objects.bulk_create(Tag(name=f"tag {start + i}") for i in range(n))


@pytest.mark.parametrize(
    "url, add",
    [
        (STORIES, add_stories),
        (USER_TAGS, add_interests),
        (f"{USER_TAGS}?tag=x", add_interests),
        (HABITS, add_habits),
        (TAGS, add_tags),
    ],
    ids=["stories", "user-tags", "user-tags by tag", "habits", "tags"],
)
def test_lists_cost_the_same_for_1_and_50_rows(api_client, user, url, add):
    assert_list_queries_constant(api_client, url, lambda n: add(user, n), budget=2)


# --- 10. anonymous callers ----------------------------------------------------------


@pytest.mark.parametrize(
    "path", [TAGS, USER_TAGS, STORIES, HABITS, GARDENS, FEATURES, MATCHES]
)
def test_anonymous_callers_get_401_on_each_list(anon_client, user, path):
    StoryFactory(user=user, visibility="public")
    HabitFactory(user=user)
    assert_error(anon_client.get(path), 401, "not_authenticated")


def test_anonymous_callers_get_401_on_interests_and_writes(anon_client, user):
    services.interest_add(user=user, tag="yoga")
    tag = Tag.objects.get()
    assert_error(anon_client.get(f"{USER_TAGS}{user.pk}/"), 401, "not_authenticated")
    assert_error(
        anon_client.get(f"{USER_TAGS}{user.pk}/{tag.pk}/"), 401, "not_authenticated"
    )
    for url, body in (
        (USER_TAGS, {"tag": "x"}),
        (REMOVE, {"tag": "yoga"}),
        (STORIES, story_body()),
        (HABITS, {"name": "x"}),
        (REFRESH, {}),
    ):
        assert_error(anon_client.post(url, body), 401, "not_authenticated")
    assert UserTag.objects.count() == 1
    assert not Story.objects.exists() and not Habit.objects.exists()


# --- 11. strict JSON ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url, body, field, code",
    [
        (FEATURES, {"vector": [1], "version": "5"}, "version", "invalid_type"),
        (FEATURES, {"vector": [1], "version": 5.0}, "version", "invalid_type"),
        (FEATURES, {"vector": [1], "version": True}, "version", "invalid_type"),
        (FEATURES, {"vector": [1], "extra": 1}, "extra", "unknown_field"),
        (FEATURES, {"vector": [1], "user_id": MISSING_USER}, "user_id", "read_only"),
        (HABITS, {"name": "A", "colour": "red"}, "colour", "unknown_field"),
        (HABITS, {"name": 5}, "name", "invalid_type"),
        (GARDENS, {"name": "A", "size": 3}, "size", "unknown_field"),
        (STORIES, story_body(tags="a,b"), "tags", "invalid_type"),
        (STORIES, story_body(author="me"), "author", "unknown_field"),
        (USER_TAGS, {"tag": "a", "user_id": MISSING_USER}, "user_id", "read_only"),
        (USER_TAGS, {"tag": 1}, "tag", "invalid_type"),
    ],
)
def test_strict_json(api_client, url, body, field, code):
    response = api_client.post(url, body)
    assert (field, code) in error_fields(response)
    for model in (UserFeature, Habit, Garden, Story, UserTag):
        assert not model.objects.exists()


def test_strict_json_on_a_change(api_client, user):
    UserFeatureFactory(user=user, vector=[1.0], version=2)
    url = f"{FEATURES}{user.pk}/"
    response = api_client.patch(url, {"version": "5"})
    assert error_fields(response) == [("version", "invalid_type")]
    response = api_client.patch(url, {"vectr": [1]})
    assert error_fields(response)[0] == ("vectr", "unknown_field")
    assert UserFeature.objects.get().version == 2


# --- 12. the profile's journaling_frequency -----------------------------------------

ME = "/api/profiles/me/"


@pytest.mark.parametrize("value", range(8))
def test_journaling_frequency_accepts_0_to_7(api_client, user, value):
    body = ok(api_client.patch(ME, {"profile": {"journaling_frequency": value}}))
    assert body["profile"]["journaling_frequency"] == value
    assert UserProfile.objects.get(user=user).journaling_frequency == value
    assert ok(api_client.get(ME))["profile"]["journaling_frequency"] == value


@pytest.mark.parametrize("value", [8, -1, 100])
def test_journaling_frequency_refuses_outside_0_to_7(api_client, user, value):
    ok(api_client.patch(ME, {"profile": {"journaling_frequency": 3}}))
    response = api_client.patch(ME, {"profile": {"journaling_frequency": value}})
    assert [f for f, _ in error_fields(response)] == ["profile.journaling_frequency"]
    assert UserProfile.objects.get(user=user).journaling_frequency == 3


def test_journaling_frequency_is_an_integer(api_client, user):
    response = api_client.patch(ME, {"profile": {"journaling_frequency": "3"}})
    assert error_fields(response) == [("profile.journaling_frequency", "invalid_type")]
    assert not UserProfile.objects.filter(user=user).exists()
