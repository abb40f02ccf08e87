"""The wellness admin: every page opens, tags are added by normalised name
and a tag's page adds and removes interested users (``user_tags`` cannot be
registered: composite key), stories take tags as names, form errors instead
of 500s, matches computed from the vectors' list and read-only."""

import pytest

from tests.profiles.factories import UserFactory
from tests.wellness.factories import HabitFactory, StoryFactory, UserFeatureFactory
from wellness import matching, services
from wellness.models import Habit, MatchResult, Story, Tag, UserFeature, UserTag

pytestmark = pytest.mark.django_db

ADMIN = "/admin/wellness/"


def form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code  # the form again
    return response.context["adminform"].form.errors


def test_a_tag_is_added_by_normalised_name(admin_client):
    response = admin_client.post(f"{ADMIN}tag/add/", {"name": "  Yoga "})
    assert response.status_code == 302
    assert list(Tag.objects.values_list("name", flat=True)) == ["yoga"]
    errors = form_errors(admin_client.post(f"{ADMIN}tag/add/", {"name": "YOGA"}))
    assert "name" in errors


def test_a_tags_page_adds_and_removes_interested_users(admin_client):
    ada, bob, cy = UserFactory.create_batch(3)
    services.interest_add(user=ada, tag="sleep")
    tag = Tag.objects.get()
    page = admin_client.get(f"{ADMIN}tag/{tag.pk}/change/")
    assert page.status_code == 200 and ada.username in page.content.decode()
    response = admin_client.post(
        f"{ADMIN}tag/{tag.pk}/change/",
        {"name": "sleep", "add_users": [bob.pk, cy.pk], "remove_users": [ada.pk]},
    )
    assert response.status_code == 302
    assert set(UserTag.objects.values_list("user_id", flat=True)) == {bob.pk, cy.pk}


def test_the_user_autocomplete_of_the_tag_page_answers(admin_client):
    ada = UserFactory(username="ada-lovelace")
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "wellness",
            "model_name": "tag",
            "field_name": "users",
            "term": "lovelace",
        },
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(ada.pk)]


def test_renaming_and_deleting_a_tag_reach_the_stories(admin_client):
    story = StoryFactory(tags=["runing", "sleep"])
    tag = Tag.objects.get(name="runing")
    admin_client.post(f"{ADMIN}tag/{tag.pk}/change/", {"name": "Running"})
    story.refresh_from_db()
    assert story.tags_cached == ["running", "sleep"]
    sleep = Tag.objects.get(name="sleep")
    admin_client.post(f"{ADMIN}tag/{sleep.pk}/delete/", {"post": "yes"})
    story.refresh_from_db()
    assert story.tags_cached == ["running"]


def test_a_story_takes_comma_separated_tag_names(admin_client):
    author = UserFactory()
    data = {"user": author.pk, "title": "T", "content": "C", "visibility": "public"}
    response = admin_client.post(f"{ADMIN}story/add/", {**data, "tags": "A, b, a"})
    assert response.status_code == 302
    story = Story.objects.get()
    assert story.tags_cached == ["a", "b"]
    admin_client.post(f"{ADMIN}story/{story.pk}/change/", {**data, "tags": "c"})
    story.refresh_from_db()
    assert story.tags_cached == ["c"]
    assert set(Tag.objects.values_list("name", flat=True)) == {"a", "b", "c"}


def test_habit_form_errors_not_500s(admin_client):
    habit = HabitFactory()
    data = {
        "user": habit.user_id,
        "name": habit.name,
        "frequency": "daily",
        "meta": "{}",
    }
    assert form_errors(admin_client.post(f"{ADMIN}habit/add/", data))
    assert Habit.objects.count() == 1
    listed = {**data, "name": "other", "meta": "[1]"}
    assert "meta" in form_errors(admin_client.post(f"{ADMIN}habit/add/", listed))


def test_feature_vectors_are_checked_and_matches_computed(admin_client):
    user = UserFactory()
    data = {"user": user.pk, "vector": '[1, "x"]', "version": 1}
    assert "vector" in form_errors(admin_client.post(f"{ADMIN}userfeature/add/", data))
    first = UserFeatureFactory(vector=[1.0, 0.0])
    UserFeatureFactory(vector=[1.0, 1.0])
    response = admin_client.post(
        f"{ADMIN}userfeature/",
        {"action": "compute_matches", "_selected_action": [first.pk]},
    )
    assert response.status_code == 302
    assert list(MatchResult.objects.values_list("user_id", flat=True)) == [first.pk]
    assert UserFeature.objects.count() == 2


def test_match_results_are_read_only(admin_client):
    UserFeatureFactory(vector=[1.0, 0.0])
    UserFeatureFactory(vector=[1.0, 1.0])
    matching.match()
    result = MatchResult.objects.first()
    assert admin_client.get(f"{ADMIN}matchresult/add/").status_code == 403
    page = admin_client.get(f"{ADMIN}matchresult/{result.pk}/change/")
    assert page.status_code == 200
    assert 'name="score"' not in page.content.decode()
