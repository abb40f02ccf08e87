"""Matching (wellness/matching.py) and ``manage.py wellness_match``: cosine
similarity within one version and length, each user's top N as one batch,
earlier batches replaced."""

import io
import math

import pytest
from django.core.management import CommandError, call_command

from tests.profiles.factories import UserFactory
from tests.wellness.factories import UserFeatureFactory
from wellness import matching
from wellness.models import MatchResult

pytestmark = pytest.mark.django_db


def vector_of(vector, **kwargs):
    return UserFeatureFactory(vector=vector, **kwargs).user


def matches(user) -> list[tuple]:
    rows = MatchResult.objects.filter(user=user).order_by("-score")
    return [(row.target_user_id, round(row.score, 6)) for row in rows]


def test_scores_are_cosine_similarities():
    me = vector_of([1, 0])
    half = vector_of([1, 1])
    same = vector_of([3, 0])
    matching.match([me])
    assert matches(me) == [(same.pk, 1.0), (half.pk, round(1 / math.sqrt(2), 6))]


def test_only_vectors_of_one_version_and_length_compare():
    me = vector_of([1, 0, 0])
    vector_of([1, 0, 0], version=2)
    vector_of([1, 0])
    kin = vector_of([1, 0.5, 0])
    matching.match([me])
    assert [target for target, _ in matches(me)] == [kin.pk]


def test_no_match_for_oneself_zero_vectors_or_opposites():
    me = vector_of([1, 0])
    vector_of([0, 0])
    vector_of([-1, 0])
    vector_of([0, 1])  # orthogonal: nothing in common
    zero = vector_of([0, 0])
    assert matching.match([me, zero]) == 0
    assert not MatchResult.objects.exists()


def test_huge_and_tiny_components_neither_overflow_nor_vanish():
    me = vector_of([1e300, 1e300])
    tiny = vector_of([1e-300, 1e-300])
    mixed = vector_of([1e300, 0])
    matching.match([me])  # RuntimeWarnings are errors in the suite
    assert matches(me) == [(tiny.pk, 1.0), (mixed.pk, round(1 / math.sqrt(2), 6))]


def test_top_n_best_first_one_created_at_per_run():
    me = vector_of([1, 0])
    others = [vector_of([1, y / 10]) for y in range(1, 8)]
    stored = matching.match(top=3)
    assert stored == 3 * 8
    assert [target for target, _ in matches(me)] == [o.pk for o in others[:3]]
    assert MatchResult.objects.values("created_at").distinct().count() == 1


def test_inactive_users_neither_match_nor_are_matched():
    me = vector_of([1, 0])
    gone = vector_of([1, 0.1])
    gone.is_active = False
    gone.save()
    kept = vector_of([1, 0.5])
    matching.match()
    assert [target for target, _ in matches(me)] == [kept.pk]
    assert not MatchResult.objects.filter(user=gone).exists()


def test_a_run_replaces_the_users_earlier_batch_and_no_one_elses():
    me, other = vector_of([1, 0]), vector_of([1, 1])
    matching.match()
    theirs = list(MatchResult.objects.filter(user=other).values_list("pk", flat=True))
    mine_before = list(MatchResult.objects.filter(user=me).values_list("pk", flat=True))
    vector_of([1, 0.01])
    matching.match([me])
    mine_after = MatchResult.objects.filter(user=me)
    assert not mine_after.filter(pk__in=mine_before).exists()
    assert mine_after.count() == 2
    assert list(
        MatchResult.objects.filter(user=other).values_list("pk", flat=True)
    ) == (theirs)


def test_the_command_matches_everyone():
    users = [vector_of([1, n]) for n in range(4)]
    UserFactory()  # no vector: no matches
    out = io.StringIO()
    call_command("wellness_match", stdout=out)
    assert out.getvalue().strip() == "12 matches stored."
    call_command("wellness_match", "--top", "1", stdout=io.StringIO())
    assert [MatchResult.objects.filter(user=u).count() for u in users] == [1] * 4
    with pytest.raises(CommandError):
        call_command("wellness_match", "--top", "0")
