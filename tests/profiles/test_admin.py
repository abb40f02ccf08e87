"""The profiles admin: users with their profile, highlights and badges, the
badge actions, highlight reordering, and the rules the API keeps, kept here
too (taglines, highlights, reactions, unique emails)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from badges.models import BadgeDefinition, BadgeGrant
from profiles import services
from profiles.models import MAX_HIGHLIGHTS, Post, Reaction, User, UserHighlight
from tests.badges.factories import BadgeGrantFactory
from tests.profiles.factories import PostFactory, UserFactory
from tests.profiles.helpers import REJECTED, admin_user_form

pytestmark = pytest.mark.django_db


def test_user_page_shows_profile_highlights_and_badges(admin_client, every_table):
    page = admin_client.get(
        reverse("admin:profiles_user_change", args=[every_table.pk])
    )
    html = page.content.decode()
    assert "Profile" in html and 'name="profile-0-display_name"' in html
    assert "Highlights" in html and "Reorder the highlights" in html
    highlight = every_table.highlights.get()
    assert str(highlight.post) in html
    assert "Badge grants" in html
    assert every_table.badge_grants.get().definition.label in html


def test_badge_actions_grant_and_revoke(admin_client):
    users = UserFactory.create_batch(3)
    BadgeGrantFactory(
        user=users[0], definition=BadgeDefinition.objects.get(badge="moderator")
    )
    url = reverse("admin:profiles_user_changelist")
    response = admin_client.post(
        url,
        {"action": "grant_badge_moderator", "_selected_action": [u.pk for u in users]},
        follow=True,
    )
    assert "granted to 2 user(s); 1 already had it" in response.content.decode()
    assert BadgeGrant.objects.filter(definition_id="moderator").count() == 3
    admin_client.post(
        url,
        {"action": "revoke_badge_moderator", "_selected_action": [users[1].pk]},
    )
    assert set(
        BadgeGrant.objects.filter(definition_id="moderator").values_list(
            "user", flat=True
        )
    ) == {users[0].pk, users[2].pk}


def test_reorder_highlights_in_the_admin(admin_client, user):
    posts = PostFactory.create_batch(3)
    for post in posts:
        services.highlight_add(user=user, post=post)
    url = reverse("admin:profiles_user_highlights", args=[user.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {f"post_{posts[0].pk}": 3, f"post_{posts[1].pk}": 1, f"post_{posts[2].pk}": 2},
    )
    assert response.status_code == 302
    assert list(
        user.highlights.order_by("position").values_list("post_id", flat=True)
    ) == [posts[1].pk, posts[2].pk, posts[0].pk]


def test_reorder_in_the_admin_shows_errors_as_form_errors(admin_client, user):
    posts = PostFactory.create_batch(2)
    for post in posts:
        services.highlight_add(user=user, post=post)
    url = reverse("admin:profiles_user_highlights", args=[user.pk])
    response = admin_client.post(
        url, {f"post_{posts[0].pk}": 1, f"post_{posts[1].pk}": 1}
    )
    assert response.status_code == 200
    assert "different position" in response.content.decode()
    stale = admin_client.post(url, {f"post_{posts[0].pk}": 2})  # one is missing
    assert stale.status_code == 200 and "required" in stale.content.decode()


def test_adding_a_129th_highlight_in_the_admin_is_a_form_error(admin_client, user):
    UserHighlight.objects.bulk_create(
        UserHighlight(user=user, post=post, position=i)
        for i, post in enumerate(PostFactory.create_batch(MAX_HIGHLIGHTS))
    )
    response = admin_client.post(
        reverse("admin:profiles_userhighlight_add"),
        {"user": user.pk, "post": PostFactory().pk},
    )
    assert response.status_code == 200
    assert "128" in str(response.context["adminform"].form.errors)


def test_adding_a_highlight_in_the_admin_appends_it(admin_client, user):
    first, second = PostFactory.create_batch(2)
    services.highlight_add(user=user, post=first)
    response = admin_client.post(
        reverse("admin:profiles_userhighlight_add"),
        {"user": user.pk, "post": second.pk},
    )
    assert response.status_code == 302
    assert user.highlights.get(post=second).position == 1


def test_deleting_highlights_in_the_admin_closes_gaps(admin_client, user):
    posts = PostFactory.create_batch(4)
    for post in posts:
        services.highlight_add(user=user, post=post)
    doomed = user.highlights.filter(post__in=posts[:2])
    admin_client.post(
        reverse("admin:profiles_userhighlight_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [h.pk for h in doomed],
            "post": "yes",
        },
    )
    assert list(
        user.highlights.order_by("position").values_list("position", "post_id")
    ) == [(0, posts[2].pk), (1, posts[3].pk)]


def test_deleting_posts_in_the_admin_closes_gaps(admin_client, user):
    posts = PostFactory.create_batch(3)
    for post in posts:
        services.highlight_add(user=user, post=post)
    admin_client.post(
        reverse("admin:profiles_post_changelist"),
        {"action": "delete_selected", "_selected_action": [posts[0].pk], "post": "yes"},
    )
    assert not Post.objects.filter(pk=posts[0].pk).exists()
    assert list(
        user.highlights.order_by("position").values_list("position", "post_id")
    ) == [(0, posts[1].pk), (1, posts[2].pk)]


def test_a_post_added_in_the_admin_is_published_through_the_service(
    admin_client, user, django_capture_on_commit_callbacks
):
    form = {"author": user.pk, "body": "Hi", "_continue": "1"}
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(reverse("admin:profiles_post_add"), form)
    post = Post.objects.get(author=user)
    # The admin went on with the service's row: its page, its log entry.
    assert response.url == reverse("admin:profiles_post_change", args=[post.pk])
    assert LogEntry.objects.get().object_id == str(post.pk)
    assert len(callbacks) == 1  # the author's stats are invalidated


def test_reactions_in_the_admin_are_given_and_taken_back(admin_client, user):
    post = PostFactory()
    add = reverse("admin:profiles_reaction_add")
    form = {"user": user.pk, "post": post.pk, "kind": "like"}
    assert admin_client.post(add, form).status_code == 302
    again = admin_client.post(add, form)
    assert again.status_code == 200
    assert "already reacted" in str(again.context["adminform"].form.errors)
    reaction = Reaction.objects.get(user=user)
    change = admin_client.get(
        reverse("admin:profiles_reaction_change", args=[reaction.pk])
    )
    assert 'name="kind"' not in change.content.decode()  # never edited
    admin_client.post(
        reverse("admin:profiles_reaction_changelist"),
        {"action": "delete_selected", "_selected_action": [reaction.pk], "post": "yes"},
    )
    assert not Reaction.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value, code",
    [
        r
        for r in REJECTED
        if "\x00" not in r[0] and "\ud800" not in r[0] and "\udfff" not in r[0]
    ],
)
def test_rejected_in_the_admin_form(client, staff_user, user, value, code):
    """The admin form shows the same rule's error; the row is unchanged.

    (NUL and lone surrogates cannot travel in a form post: Django's own form
    field refuses NUL first, and a browser cannot encode a lone surrogate.)
    """
    client.force_login(staff_user)
    response = client.post(
        f"/admin/profiles/user/{user.pk}/change/", admin_user_form(user, tagline=value)
    )
    assert response.status_code == 200
    assert (
        response.context["adminform"].form.errors["tagline"][0].startswith("Tagline ")
    )
    user.refresh_from_db()
    assert user.tagline is None


@pytest.mark.django_db
def test_admin_form_normalises_like_the_api(client, staff_user, user):
    client.force_login(staff_user)
    response = client.post(
        f"/admin/profiles/user/{user.pk}/change/",
        admin_user_form(user, tagline="  Cafe\u0301 " + "e\u0301" * 40),
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.tagline == "Café " + "é" * 40


def test_admin_add_form_shows_a_duplicate_email_as_a_form_error(client, staff_user):
    UserFactory(email="Ada@Example.com")
    client.force_login(staff_user)
    response = client.post(
        "/admin/profiles/user/add/",
        {
            "username": "newcomer",
            "email": "ADA@example.com",
            "usable_password": "false",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "already exists" in str(errors)
    assert not User.objects.filter(username="newcomer").exists()


def test_admin_change_form_shows_a_duplicate_email_as_a_form_error(
    client, staff_user, user
):
    UserFactory(email="taken@example.com")
    client.force_login(staff_user)
    response = client.post(
        f"/admin/profiles/user/{user.pk}/change/",
        admin_user_form(user, email="TAKEN@example.com"),
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
