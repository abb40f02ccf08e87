"""The wellness API (seed 003): tags by name, interests, stories by
visibility, habits, one garden, feature vectors and matches; another user's
private rows are 404 on every verb; lists cost the same for 1 and 50 rows."""

import pytest

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
    Garden,
    Habit,
    MatchResult,
    Story,
    Tag,
    UserFeature,
    UserTag,
)
from wellness.services import MAX_INTERESTS

pytestmark = pytest.mark.django_db

API = "/api/wellness/"
METHODS = ("get", "put", "patch", "delete")


def send(client, method: str, url: str, body: dict):
    """``method`` on ``url`` with ``body``; a GET sends none (its data would
    be query parameters, which a row's URL does not take)."""
    return getattr(client, method)(
        url, None if method == "get" else body, format="json"
    )


# --- tags ---------------------------------------------------------------------------


def test_staff_add_tags_by_normalised_name_once(staff_client):
    body = ok(staff_client.post(f"{API}tags/", {"name": "  Meditation "}), 201)
    assert body["name"] == "meditation"
    again = staff_client.post(f"{API}tags/", {"name": "MEDITATION"})
    assert error_fields(again) == [("name", "unique")]
    assert error_fields(staff_client.post(f"{API}tags/", {"name": "   "})) == [
        ("name", "blank")
    ]
    assert list(Tag.objects.values_list("name", flat=True)) == ["meditation"]


def test_users_read_tags_but_only_staff_change_them(api_client):
    tag = Tag.objects.create(name="sleep")
    assert ok(api_client.get(f"{API}tags/?name=SLEEP"))["results"][0]["id"] == tag.pk
    assert_error(
        api_client.post(f"{API}tags/", {"name": "x"}), 403, "permission_denied"
    )
    url = f"{API}tags/{tag.pk}/"
    assert_error(api_client.patch(url, {"name": "y"}), 403, "permission_denied")
    assert_error(api_client.delete(url), 403, "permission_denied")
    assert Tag.objects.get().name == "sleep"


def test_renaming_or_deleting_a_tag_reaches_every_story(staff_client, user):
    story = StoryFactory(user=user, tags=["Runing", "sleep"])
    tag = Tag.objects.get(name="runing")
    ok(staff_client.patch(f"{API}tags/{tag.pk}/", {"name": "Running"}))
    story.refresh_from_db()
    assert story.tags_cached == ["running", "sleep"]
    services.interest_add(user=user, tag="sleep")
    ok(staff_client.delete(f"{API}tags/{Tag.objects.get(name='sleep').pk}/"), 204)
    story.refresh_from_db()
    assert story.tags_cached == ["running"]
    assert not UserTag.objects.exists()


# --- interests ----------------------------------------------------------------------


def test_a_user_adds_and_removes_interests_by_name(api_client, user):
    body = ok(api_client.post(f"{API}user-tags/", {"tag": " Yoga "}), 201)
    tag = Tag.objects.get(name="yoga")
    assert body == {"user_id": str(user.pk), "tag_id": tag.pk, "tag_name": "yoga"}
    assert error_fields(api_client.post(f"{API}user-tags/", {"tag": "YOGA"})) == [
        ("tag", "unique")
    ]
    ok(api_client.post(f"{API}user-tags/remove/", {"tag": "yOgA"}), 204)
    assert not UserTag.objects.exists()
    again = api_client.post(f"{API}user-tags/remove/", {"tag": "yoga"})
    assert_error(again, 404, "not_found")


def test_users_with_a_tag_are_a_filter(api_client, user):
    others = UserFactory.create_batch(3)
    for person in [user, *others[:2]]:
        services.interest_add(user=person, tag="running")
    services.interest_add(user=others[2], tag="sleep")
    rows = results(api_client.get(f"{API}user-tags/?tag=Running"))
    assert {row["user_id"] for row in rows} == {str(p.pk) for p in [user, *others[:2]]}
    mine = results(api_client.get(f"{API}user-tags/?user_id={others[2].pk}"))
    assert [row["tag_name"] for row in mine] == ["sleep"]


def test_user_tags_pages_by_their_composite_key(api_client):
    for n in range(5):
        services.interest_add(user=UserFactory(), tag=f"t{n % 2}")
    seen, url = [], f"{API}user-tags/?page_size=2"
    while url:
        body = ok(api_client.get(url))
        seen += [(row["user_id"], row["tag_id"]) for row in body["results"]]
        url = body["next"]
    assert len(seen) == 5 == len(set(seen))
    assert seen == sorted(seen)


def test_one_users_interests_and_one_of_them(api_client, user, other_user):
    services.interest_add(user=other_user, tag="cooking")
    tag = Tag.objects.get()
    listed = ok(api_client.get(f"{API}user-tags/{other_user.pk}/"))
    assert listed == [
        {"user_id": str(other_user.pk), "tag_id": tag.pk, "tag_name": "cooking"}
    ]
    one = f"{API}user-tags/{other_user.pk}/{tag.pk}/"
    assert ok(api_client.get(one)) == listed[0]
    assert_error(api_client.delete(one), 404, "not_found")  # not theirs to delete
    assert UserTag.objects.count() == 1
    assert ok(api_client.get(f"{API}user-tags/{user.pk}/")) == []
    missing = "00000000-0000-0000-0000-000000000000"
    assert_error(api_client.get(f"{API}user-tags/{missing}/"), 404, "not_found")
    ok(token_client(other_user).delete(one), 204)
    assert not UserTag.objects.exists()


# --- stories ------------------------------------------------------------------------


def test_a_story_takes_tag_names_and_makes_the_tags(api_client, user):
    body = ok(
        api_client.post(
            f"{API}stories/",
            {
                "title": "First",
                "content": "Hello",
                "tags": ["Growth", "growth", " new one "],
            },
        ),
        201,
    )
    assert body["tags"] == ["growth", "new one"]
    assert body["visibility"] == "private"
    assert body["user_id"] == str(user.pk)
    assert set(Tag.objects.values_list("name", flat=True)) == {"growth", "new one"}
    url = f"{API}stories/{body['id']}/"
    changed = ok(api_client.patch(url, {"tags": ["sleep"], "title": "Second"}))
    assert changed["tags"] == ["sleep"] and changed["title"] == "Second"
    assert changed["updated_at"] > body["updated_at"]
    assert Story.objects.get().tags_cached == ["sleep"]


def test_bad_story_input_is_a_400_naming_the_field(api_client):
    bad = {"title": "x" * 141, "content": "c", "visibility": "secret", "tags": [" "]}
    fields = {
        field for field, _ in error_fields(api_client.post(f"{API}stories/", bad))
    }
    assert fields == {"title", "visibility", "tags.0"}
    assert not Story.objects.exists()


def test_visibility_decides_who_reads_a_story(api_client, user, other_user):
    mine = {
        v: StoryFactory(user=user, visibility=v)
        for v in ("public", "private", "friends")
    }
    theirs = {
        v: StoryFactory(user=other_user, visibility=v)
        for v in ("public", "private", "friends")
    }
    listed = {row["id"] for row in results(api_client.get(f"{API}stories/"))}
    assert listed == {s.pk for s in mine.values()} | {theirs["public"].pk}
    for visibility in ("private", "friends"):
        url = f"{API}stories/{theirs[visibility].pk}/"
        for method in METHODS:
            response = send(api_client, method, url, {"title": "mine now"})
            assert_error(response, 404, "not_found")
    public = f"{API}stories/{theirs['public'].pk}/"
    assert ok(api_client.get(public))["title"] == theirs["public"].title
    assert_error(api_client.patch(public, {"title": "x"}), 403, "permission_denied")
    assert_error(api_client.delete(public), 403, "permission_denied")
    assert Story.objects.get(pk=theirs["public"].pk).title == theirs["public"].title


def test_stories_filter_by_tag_user_and_visibility_newest_first(api_client, user):
    old = StoryFactory(user=user, tags=["sleep"], visibility="public")
    new = StoryFactory(user=user, tags=["sleep", "yoga"])
    StoryFactory(visibility="public", tags=["yoga"])
    rows = results(api_client.get(f"{API}stories/?tag=SLEEP"))
    assert [row["id"] for row in rows] == [new.pk, old.pk]
    rows = results(api_client.get(f"{API}stories/?user_id={user.pk}&visibility=public"))
    assert [row["id"] for row in rows] == [old.pk]


# --- habits, gardens ----------------------------------------------------------------


def test_a_habit_name_is_unique_per_user(api_client, user, other_user):
    ok(api_client.post(f"{API}habits/", {"name": "Walk", "frequency": "daily"}), 201)
    duplicate = api_client.post(f"{API}habits/", {"name": "Walk"})
    assert error_fields(duplicate) == [("name", "unique")]
    HabitFactory(user=other_user, name="Walk")  # another user's may share it
    other = ok(api_client.post(f"{API}habits/", {"name": "Read"}), 201)
    renamed = api_client.patch(f"{API}habits/{other['id']}/", {"name": "Walk"})
    assert error_fields(renamed) == [("name", "unique")]
    assert Habit.objects.filter(user=user).count() == 2


def test_habit_meta_is_an_object_and_frequency_a_choice(api_client):
    for meta in ([1], "x", 3):
        response = api_client.post(f"{API}habits/", {"name": "A", "meta": meta})
        assert [field for field, _ in error_fields(response)] == ["meta"]
    response = api_client.post(f"{API}habits/", {"name": "A", "frequency": "hourly"})
    assert [field for field, _ in error_fields(response)] == ["frequency"]
    body = ok(api_client.post(f"{API}habits/", {"name": "A", "meta": {"m": 10}}), 201)
    assert body["meta"] == {"m": 10} and body["frequency"] is None


def test_a_second_garden_is_refused_and_the_first_stays(api_client, user):
    ok(api_client.post(f"{API}gardens/", {"name": "Mine", "theme": "zen"}), 201)
    response = api_client.post(f"{API}gardens/", {"name": "Another"})
    assert error_fields(response) == [("user_id", "unique")]
    assert list(Garden.objects.values_list("name", "theme")) == [("Mine", "zen")]


# --- features and matching ----------------------------------------------------------


@pytest.mark.parametrize(
    "vector",
    [[], ["a"], [True], [None], [1] * 65, "1,2", {"a": 1}],
    ids=["empty", "string", "boolean", "null", "too long", "text", "object"],
)
def test_a_vector_is_1_to_64_finite_numbers(api_client, vector):
    response = api_client.post(f"{API}user-features/", {"vector": vector})
    assert {field.split(".")[0] for field, _ in error_fields(response)} == {"vector"}
    assert not UserFeature.objects.exists()


def test_a_vector_beyond_floats_is_a_400(api_client):
    response = api_client.post(
        f"{API}user-features/",
        '{"vector": [1, 1e400]}',
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert not UserFeature.objects.exists()


def test_users_set_and_change_their_vector(api_client, user):
    body = ok(api_client.post(f"{API}user-features/", {"vector": [1, 0.5]}), 201)
    assert body["version"] == 1 and body["vector"] == [1.0, 0.5]
    again = api_client.post(f"{API}user-features/", {"vector": [1]})
    assert error_fields(again) == [("user_id", "unique")]
    url = f"{API}user-features/{user.pk}/"
    changed = ok(api_client.patch(url, {"vector": [0, 1, 2], "version": 2}))
    assert changed["vector"] == [0.0, 1.0, 2.0] and changed["version"] == 2
    assert changed["updated_at"] > body["updated_at"]


def test_matches_come_from_vectors_of_one_version_and_length(api_client, user):
    UserFeatureFactory(user=user, vector=[1.0, 0.0])
    near = UserFeatureFactory(vector=[1.0, 1.0]).user
    UserFeatureFactory(vector=[1.0, 0.1], version=2)  # another schema
    UserFeatureFactory(vector=[1.0, 0.0, 0.0])  # another length
    UserFeatureFactory(vector=[-1.0, 0.0])  # opposite: no match
    rows = ok(api_client.post(f"{API}match-results/refresh/"))
    assert [(row["target_user_id"], round(row["score"], 4)) for row in rows] == [
        (str(near.pk), 0.7071)
    ]
    assert rows[0]["target_user"] == {"id": str(near.pk), "username": near.username}
    assert ok(api_client.get(f"{API}match-results/")) == rows


def test_matches_list_the_latest_batch_best_first(api_client, user):
    UserFeatureFactory(user=user, vector=[1.0, 0.0])
    for y in (0.2, 0.9, 0.5):
        UserFeatureFactory(vector=[1.0, y])
    matching.match()
    first = ok(api_client.get(f"{API}match-results/"))
    assert [row["score"] for row in first] == sorted(
        (row["score"] for row in first), reverse=True
    )
    assert len(first) == 3
    matching.match([user], top=1)
    latest = ok(api_client.get(f"{API}match-results/"))
    assert len(latest) == 1 and latest[0]["score"] == first[0]["score"]
    assert MatchResult.objects.filter(user=user).count() == 1


# --- isolation: another user's private rows are 404 on every verb --------------------


def test_another_users_private_rows_are_404_on_every_verb(user, other_user):
    UserFeatureFactory(user=user, vector=[1.0, 0.0])
    UserFeatureFactory(user=other_user, vector=[1.0, 0.5])
    matching.match([user])
    urls = [
        f"{API}habits/{HabitFactory(user=user).pk}/",
        f"{API}gardens/{GardenFactory(user=user).pk}/",
        f"{API}user-features/{user.pk}/",
        f"{API}stories/{StoryFactory(user=user, visibility='private').pk}/",
        f"{API}match-results/{MatchResult.objects.get(user=user).pk}/",
    ]
    before = [list(m.objects.order_by("pk").values()) for m in (Habit, Garden, Story)]
    stranger = token_client(other_user)
    for url in urls:
        for method in METHODS:
            response = send(stranger, method, url, {"name": "taken"})
            assert response.status_code in (404, 405), (method, url)
            if method == "get":
                assert_error(response, 404, "not_found")
    after = [list(m.objects.order_by("pk").values()) for m in (Habit, Garden, Story)]
    assert after == before
    assert UserFeature.objects.get(user=user).vector == [1.0, 0.0]
    for path in ("habits/", "gardens/", "user-features/", "match-results/"):
        rows = stranger.get(f"{API}{path}").json()
        rows = rows["results"] if isinstance(rows, dict) else rows
        assert all(row["user_id"] == str(other_user.pk) for row in rows), path


def test_anonymous_callers_get_401(anon_client):
    for path in (
        "tags/",
        "user-tags/",
        "stories/",
        "habits/",
        "gardens/",
        "user-features/",
        "match-results/",
    ):
        assert_error(anon_client.get(f"{API}{path}"), 401, "not_authenticated")


# --- list costs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, add",
    [
        (
            "stories/",
            lambda n, owner: StoryFactory.create_batch(
                n, visibility="public", tags=["a"]
            ),
        ),
        ("habits/", lambda n, owner: HabitFactory.create_batch(n, user=owner)),
        (
            "tags/",
            lambda n, owner: [
                Tag.objects.create(name=f"t{Tag.objects.count()}") for _ in range(n)
            ],
        ),
        (
            "user-tags/",
            lambda n, owner: [
                services.interest_add(user=UserFactory(), tag="x") for _ in range(n)
            ],
        ),
    ],
)
def test_lists_cost_the_same_for_1_and_50_rows(api_client, user, path, add):
    assert_list_queries_constant(
        api_client, f"{API}{path}", lambda n: add(n, user), budget=2
    )


# --- bounds that let a list come whole ----------------------------------------------
def test_a_user_has_at_most_max_interests(api_client, user):
    tags = Tag.objects.bulk_create(Tag(name=f"t{n}") for n in range(MAX_INTERESTS))
    UserTag.objects.bulk_create(UserTag(user=user, tag=tag) for tag in tags)
    response = api_client.post("/api/wellness/user-tags/", {"tag": "one more"})
    body = assert_error(response, 400, "invalid")
    assert body["errors"][0]["field"] == "tag"
    assert UserTag.objects.filter(user=user).count() == MAX_INTERESTS
    assert not Tag.objects.filter(name="one more").exists()
    listed = api_client.get(f"/api/wellness/user-tags/{user.pk}/").json()
    assert len(listed) == MAX_INTERESTS


# --- the profile's journaling frequency ---------------------------------------------


@pytest.mark.parametrize("value, status", [(0, 200), (7, 200), (8, 400), (-1, 400)])
def test_journaling_frequency_is_0_to_7(api_client, value, status):
    response = api_client.patch(
        "/api/profiles/me/", {"profile": {"journaling_frequency": value}}
    )
    assert response.status_code == status, response.content
    if status == 400:
        assert error_fields(response)[0][0] == "profile.journaling_frequency"
