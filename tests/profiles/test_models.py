"""The profiles tables: the one user table, the tagline column, timestamps,
constraints, cascades and indexes, as the database holds them."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from profiles import services
from profiles.models import Post, Reaction, User, UserHighlight, UserProfile
from tests.profiles.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- users --------------------------------------------------------------------------


def test_ids_are_uuids_generated_by_the_database_too():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO users (password, is_superuser, username, first_name, "
            "last_name, is_staff, is_active, email) "
            "VALUES ('', false, 'raw', '', '', false, true, 'raw@example.com')"
        )
    user = User.objects.get(username="raw")
    assert isinstance(user.pk, uuid.UUID)
    assert user.created_at is not None


def test_email_is_unique_ignoring_case_in_the_database():
    UserFactory(email="Ada@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="other", email="ada@example.COM")


def test_with_email_finds_any_case():
    user = UserFactory(email="Ada@Example.com")
    assert list(User.objects.with_email("ADA@example.com")) == [user]


# --- the tagline column -------------------------------------------------------------


def test_tagline_queries_compare_the_value_as_given():
    UserFactory(tagline="a" * 48)
    assert User.objects.filter(tagline="a" * 49).count() == 0
    assert User.objects.filter(tagline="  x  ").count() == 0


def test_a_saved_tagline_is_what_the_instance_holds():
    """Model fields do not clean on save; validation does (next test)."""
    user = UserFactory(tagline="  x  ")
    assert user.tagline == "  x  "
    user.refresh_from_db()
    assert user.tagline == "  x  "


def test_full_clean_normalises_and_validates_the_tagline():
    user = UserFactory.build(tagline="  Cafe\u0301  ")
    user.full_clean(exclude=["password"])
    assert user.tagline == "Café"
    user.tagline = "evil\u202e"
    with pytest.raises(ValidationError) as error:
        user.full_clean(exclude=["password"])
    assert error.value.error_dict["tagline"][0].code == "tagline_bidi_control"


# --- timestamps ---------------------------------------------------------------------


def test_a_new_profile_is_created_no_later_than_it_is_updated(user):
    profile = UserProfile.objects.create(user=user, bio="hi")
    stored = UserProfile.objects.get(pk=profile.pk)
    assert stored.created_at <= stored.updated_at
    assert profile.updated_at == stored.updated_at  # read back after the insert
    if connection.vendor == "postgresql":  # one statement, one clock
        assert stored.created_at == stored.updated_at


def test_saving_a_profile_moves_updated_at_forward(user):
    profile = UserProfile.objects.create(user=user)
    earlier = profile.created_at - timedelta(minutes=1)
    UserProfile.objects.filter(pk=profile.pk).update(updated_at=earlier)
    profile.bio = "later"
    profile.save()
    stored = UserProfile.objects.get(pk=profile.pk)
    assert stored.updated_at >= stored.created_at > earlier
    assert profile.updated_at == stored.updated_at
    UserProfile.objects.filter(pk=profile.pk).update(updated_at=earlier)
    services.profile_update(user=user, profile={"bio": "via the service"})
    assert UserProfile.objects.get(pk=profile.pk).updated_at > earlier


# --- constraints and cascades -------------------------------------------------------


@pytest.mark.parametrize("field", ["post", "position"])
def test_database_refuses_duplicates(user, field):
    first, second = PostFactory.create_batch(2)
    services.highlight_add(user=user, post=first)
    services.highlight_add(user=user, post=second)
    if field == "post":
        duplicate = {"post": first, "position": 5}
    else:
        duplicate = {"post": PostFactory(), "position": 1}
    with pytest.raises(IntegrityError), transaction.atomic():
        UserHighlight.objects.create(user=user, **duplicate)


def test_database_cascade_removes_highlights_of_a_deleted_post(user):
    """The seed's ON DELETE CASCADE is in the database itself."""
    post = PostFactory()
    services.highlight_add(user=user, post=post)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM posts WHERE id = %s", [post.pk])
    assert not UserHighlight.objects.filter(post_id=post.pk).exists()


# --- indexes (PostgreSQL reads them; EXPLAIN output is its own) ---------------------


def analyze(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


def explain(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_reacted_posts_query_uses_the_seed_index(postgresql, user):
    """The window of reactions is read through ix_reactions_user_created (with
    enough rows that a plan without it would be chosen if the index did not
    fit), for a user with few reactions and for one with many."""
    others = UserFactory.create_batch(40)
    posts = PostFactory.create_batch(300)
    Reaction.objects.bulk_create(
        Reaction(user=someone, post=post, kind="like")
        for someone in [user, *others]
        for post in posts[: 10 if someone is user else 300]
    )
    heavy = others[0]
    Reaction.objects.bulk_create(
        Reaction(user=heavy, post=post, kind=kind)
        for post in posts
        for kind in ("love", "wow", "sad")
    )
    analyze("reactions")
    for someone in (user, heavy):
        plan = explain(
            *Reaction.objects.reacted_posts_sql(
                someone.pk,
                reader=user,
                position=None,
                reverse=False,
                limit=51,
                window=8192,
            )
        )
        assert "ix_reactions_user_created" in plan, plan
        assert "Seq Scan on reactions" not in plan, plan


def test_posts_ordered_by_creation_read_the_index(postgresql, user):
    Post.objects.bulk_create(Post(author=user, body=f"post {i}") for i in range(2000))
    analyze("posts")
    newest = Post.objects.order_by("-created_at", "-id")[:50].explain()
    oldest = Post.objects.order_by("created_at", "id")[:50].explain()
    assert "ix_posts_created" in newest, newest
    assert "ix_posts_created" in oldest, oldest  # read backwards
