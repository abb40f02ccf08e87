"""Wellness in the admin: a user's interests (tags), stories and matches."""

from tests.profiles.factories import UserFactory
from tests.wellness.factories import StoryFactory
from wellness import services
from wellness.models import MatchResult, Tag, UserFeature


def test_edit_a_users_interests_from_their_page(staff):
    ada = UserFactory(username="ada")
    grace = UserFactory(username="grace")
    services.interest_add(user=ada, tag="yoga")
    services.interest_add(user=grace, tag="running")
    staff.open(f"/admin/profiles/user/{ada.pk}/change/")
    staff.click_link("Tags", within=".field-related")
    assert [row.split()[0] for row in staff.rows()] == ["yoga"]

    staff.click_link("yoga", within="#result_list")
    assert staff.text(".field-interested .readonly") == "ada"
    staff.autocomplete("add_users", "gra", "grace")
    staff.autocomplete("remove_users", "ad", "ada")
    staff.save()
    assert staff.messages() == ["The tag “yoga” was changed successfully."]
    assert list(Tag.objects.get(name="yoga").users.all()) == [grace]
    assert list(Tag.objects.get(name="running").users.all()) == [grace]
    # The list keeps its filter (ada's tags): yoga is no longer one of them.
    assert staff.rows() == []
    staff.click_link("yoga", within="ul.messagelist")
    assert staff.text(".field-interested .readonly") == "grace"
    staff.screenshot()


def test_see_a_users_stories_and_matches(staff):
    ada = UserFactory(username="ada")
    grace = UserFactory(username="grace")
    alan = UserFactory(username="alan")
    StoryFactory(user=ada, title="Morning pages", tags=["journaling"])
    StoryFactory(user=grace, title="Not ada's")
    for user, vector in [(ada, [1, 0, 0]), (grace, [1, 0.1, 0]), (alan, [0.5, 1, 0])]:
        services.features_create(user=user, vector=vector)

    staff.open("/admin/wellness/userfeature/")
    staff.act("Compute the matches of the selected users now", "ada")
    assert staff.messages() == ["2 matches stored."]
    assert list(
        MatchResult.objects.filter(user=ada).values_list(
            "target_user__username", flat=True
        )
    ) == ["grace", "alan"]
    assert not MatchResult.objects.exclude(user=ada).exists()
    assert UserFeature.objects.count() == 3

    staff.open(f"/admin/profiles/user/{ada.pk}/change/")
    staff.click_link("Stories", within=".field-related")
    (story,) = staff.rows()
    assert story.startswith("Morning pages ada")
    assert "journaling" in story
    staff.screenshot("stories")

    staff.driver.back()
    staff.click_link("Match results (user)", within=".field-related")
    matches = staff.rows()
    assert [row.split()[1] for row in matches] == ["grace", "alan"]
    assert [row.split()[0] for row in matches] == ["ada", "ada"]
    staff.screenshot("matches")
