"""Highlights: add, remove, reorder, the 128 limit, and contiguous positions
after every removal, whichever way a post or user is deleted."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from profiles import services
from profiles.models import MAX_HIGHLIGHTS, Post, UserHighlight
from tests.profiles.factories import PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def positions(user) -> list[tuple[int, int]]:
    """``(position, post_id)`` of ``user``'s highlights, in order."""
    return list(
        UserHighlight.objects.filter(user=user)
        .order_by("position")
        .values_list("position", "post_id")
    )


def highlighted(user, count: int) -> list[Post]:
    posts = PostFactory.create_batch(count)
    for post in posts:
        services.highlight_add(user=user, post=post)
    return posts


def assert_contiguous(user, post_ids):
    assert positions(user) == list(enumerate(post_ids))


# --- services -----------------------------------------------------------------


def test_add_appends_at_the_end(user):
    first, second, third = highlighted(user, 3)
    assert_contiguous(user, [first.pk, second.pk, third.pk])


def test_add_twice_is_refused(user):
    (post,) = highlighted(user, 1)
    with pytest.raises(ValidationError) as error:
        services.highlight_add(user=user, post=post)
    assert error.value.error_dict["post_id"][0].code == "highlight_exists"


def test_the_129th_highlight_is_refused(user):
    UserHighlight.objects.bulk_create(
        UserHighlight(user=user, post=post, position=index)
        for index, post in enumerate(PostFactory.create_batch(MAX_HIGHLIGHTS))
    )
    with pytest.raises(ValidationError) as error:
        services.highlight_add(user=user, post=PostFactory())
    assert error.value.error_dict["post_id"][0].code == "highlight_limit"
    assert UserHighlight.objects.filter(user=user).count() == MAX_HIGHLIGHTS


@pytest.mark.parametrize("field", ["post", "position"])
def test_database_refuses_duplicates(user, field):
    first, _ = highlighted(user, 2)
    if field == "post":
        duplicate = {"post": first, "position": 5}
    else:
        duplicate = {"post": PostFactory(), "position": 1}
    with pytest.raises(IntegrityError), transaction.atomic():
        UserHighlight.objects.create(user=user, **duplicate)


def test_remove_closes_the_gap(user):
    a, b, c, d = highlighted(user, 4)
    services.highlight_remove(user=user, post_id=b.pk)
    assert_contiguous(user, [a.pk, c.pk, d.pk])
    services.highlight_remove(user=user, post_id=a.pk)
    assert_contiguous(user, [c.pk, d.pk])


def test_remove_of_a_post_not_highlighted_raises(user):
    highlighted(user, 1)
    with pytest.raises(UserHighlight.DoesNotExist):
        services.highlight_remove(user=user, post_id=PostFactory().pk)


def test_reorder_applies_the_new_order(user):
    a, b, c, d = highlighted(user, 4)
    result = services.highlights_reorder(user=user, post_ids=[d.pk, b.pk, a.pk, c.pk])
    assert [h.post_id for h in result] == [d.pk, b.pk, a.pk, c.pk]
    assert_contiguous(user, [d.pk, b.pk, a.pk, c.pk])


@pytest.mark.parametrize(
    "order, problem",
    [
        (lambda a, b, c: [a, b], "missing from the new order"),
        (lambda a, b, c: [a, b, c, c], "listed more than once"),
        (lambda a, b, c: [a, b, c, 999_999], "not in your highlights"),
        (lambda a, b, c: [a, a, b], "listed more than once"),
        (lambda a, b, c: [], "missing from the new order"),
    ],
)
def test_reorder_refuses_anything_but_a_permutation(user, order, problem):
    posts = highlighted(user, 3)
    ids = [p.pk for p in posts]
    with pytest.raises(ValidationError) as error:
        services.highlights_reorder(user=user, post_ids=order(*ids))
    assert problem in str(error.value)
    assert_contiguous(user, ids)  # nothing changed


def reorder_queries(user, count: int) -> int:
    posts = highlighted(user, count)
    reversed_ids = [p.pk for p in reversed(posts)]
    with CaptureQueriesContext(connection) as queries:
        services.highlights_reorder(user=user, post_ids=reversed_ids)
    assert_contiguous(user, reversed_ids)
    return len(queries)


def test_reorder_costs_the_same_queries_for_2_and_128_highlights():
    assert reorder_queries(UserFactory(), 2) == reorder_queries(
        UserFactory(), MAX_HIGHLIGHTS
    )


# --- deleting posts and users (database cascades) -----------------------------


def test_deleting_a_post_closes_the_gap_for_every_owner(user, other_user):
    a, b, c = highlighted(user, 3)
    services.highlight_add(user=other_user, post=b)
    services.highlight_add(user=other_user, post=c)
    b.delete()
    assert_contiguous(user, [a.pk, c.pk])
    assert_contiguous(other_user, [c.pk])


def test_queryset_delete_of_posts_closes_the_gaps(user):
    a, b, c, d, e = highlighted(user, 5)
    Post.objects.filter(pk__in=[a.pk, c.pk, e.pk]).delete()
    assert_contiguous(user, [b.pk, d.pk])


def test_deleting_the_author_closes_gaps_in_other_users_highlights(user, other_user):
    author = UserFactory()
    mine = PostFactory(author=other_user)
    theirs = PostFactory.create_batch(2, author=author)
    for post in [theirs[0], mine, theirs[1]]:
        services.highlight_add(user=user, post=post)
    author.delete()
    assert_contiguous(user, [mine.pk])


def test_deleting_posts_of_a_user_queryset_closes_gaps(user):
    authors = UserFactory.create_batch(2)
    kept = PostFactory()
    for post in [PostFactory(author=authors[0]), kept, PostFactory(author=authors[1])]:
        services.highlight_add(user=user, post=post)
    type(user).objects.filter(pk__in=[a.pk for a in authors]).delete()
    assert_contiguous(user, [kept.pk])


def test_database_cascade_removes_highlights_of_a_deleted_post(user):
    """The seed's ON DELETE CASCADE is in the database itself."""
    (post,) = highlighted(user, 1)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM posts WHERE id = %s", [post.pk])
    assert not UserHighlight.objects.filter(post_id=post.pk).exists()


# --- two writers at once (PostgreSQL: SQLite serialises all writers) ----------


@pytest.fixture
def in_parallel(transactional_db):
    """Run two callables in threads, each in its own transaction; the first
    commits only once the second is waiting for its lock."""
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite runs one writer at a time")

    def run(first, second):
        from django.db import connections

        results, errors = {}, {}
        first_locked, second_done = threading.Event(), threading.Event()

        def waiting_on_lock() -> bool:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh view
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                return cursor.fetchone()[0] > 0

        def run_first():
            try:
                with transaction.atomic():
                    results["first"] = first()
                    first_locked.set()
                    # Commit once the second is blocked on our locks (or has
                    # finished without blocking, which the test then reports).
                    while not waiting_on_lock() and not second_done.wait(0.01):
                        pass
            except Exception as exc:
                errors["first"] = exc
            finally:
                first_locked.set()
                connections.close_all()

        def run_second():
            first_locked.wait()
            try:
                with transaction.atomic():
                    results["second"] = second()
            except Exception as exc:
                errors["second"] = exc
            finally:
                second_done.set()
                connections.close_all()

        threads = [
            threading.Thread(target=run_first),
            threading.Thread(target=run_second),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return results, errors

    return run


def test_two_reorders_at_once_both_apply_in_turn(in_parallel):
    user = UserFactory()
    a, b, c = highlighted(user, 3)
    _, errors = in_parallel(
        lambda: services.highlights_reorder(user=user, post_ids=[c.pk, b.pk, a.pk]),
        lambda: services.highlights_reorder(user=user, post_ids=[b.pk, a.pk, c.pk]),
    )
    assert errors == {}
    assert_contiguous(user, [b.pk, a.pk, c.pk])


def test_reorder_waiting_on_a_remove_sees_the_removal(in_parallel):
    user = UserFactory()
    a, b, c = highlighted(user, 3)
    _, errors = in_parallel(
        lambda: services.highlight_remove(user=user, post_id=b.pk),
        lambda: services.highlights_reorder(user=user, post_ids=[c.pk, b.pk, a.pk]),
    )
    assert "not in your highlights" in str(errors.pop("second"))
    assert errors == {}
    assert_contiguous(user, [a.pk, c.pk])


def test_two_adds_at_once_take_consecutive_positions(in_parallel):
    user = UserFactory()
    (a,) = highlighted(user, 1)
    b, c = PostFactory.create_batch(2)
    _, errors = in_parallel(
        lambda: services.highlight_add(user=user, post=b),
        lambda: services.highlight_add(user=user, post=c),
    )
    assert errors == {}
    assert_contiguous(user, [a.pk, b.pk, c.pk])
