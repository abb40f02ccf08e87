"""Matching: for each user, the users whose feature vectors are most alike.

A vector (``user_features.vector``) compares only with vectors of the same
``version`` and length. Likeness is cosine similarity; a pair scoring 0 or
less (nothing in common, or a zero vector) is no match. Each user's top
``WELLNESS_MATCHES`` go into ``match_results`` as one batch, one
``created_at`` for the whole run; the user's earlier batches are deleted in
the same transaction (the table is a cache of the latest run).

The similarities are computed with numpy, a block of rows at a time (one
matrix product per block), so a run over n users of d dimensions costs
n x n x d multiplications in C and n x block floats of memory:
docs/benchmarks.md has the measured times.
"""

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.bulk import batches, insert_rows
from wellness.models import MatchResult, UserFeature

COLUMNS = ["user_id", "target_user_id", "score", "created_at"]
BLOCK = 1024  # rows per matrix product: 1024 x n float64 scores at a time


def _unit_rows(vectors: list[list[float]]) -> np.ndarray:
    """Each vector scaled to length 1 (a zero vector stays zero). Scaled
    by its largest component first, so huge or tiny numbers neither
    overflow nor vanish on the way."""
    matrix = np.array(vectors, dtype=np.float64)
    largest = np.abs(matrix).max(axis=1, keepdims=True)
    matrix /= np.where(largest == 0, 1, largest)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def _best(user_ids: list, vectors: list, wanted: set | None, top: int):
    """``(user_id, target_user_id, score)`` of each wanted user's ``top``
    matches among ``user_ids`` (one group: same version and length)."""
    unit = _unit_rows(vectors)
    rows = [
        i for i, user_id in enumerate(user_ids) if wanted is None or user_id in wanted
    ]
    keep = min(top, len(user_ids) - 1)
    if keep <= 0:
        return
    for start in range(0, len(rows), BLOCK):
        block = rows[start : start + BLOCK]
        scores = unit[block] @ unit.T
        scores[np.arange(len(block)), block] = -np.inf  # never oneself
        best = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        for row, i in enumerate(block):
            for j in best[row]:
                score = float(scores[row, j])
                if score > 0:
                    yield user_ids[i], user_ids[j], min(score, 1.0)


def match(users: Iterable | None = None, *, top: int | None = None) -> int:
    """Compute the matches of ``users`` (ids or users; every active user
    with a vector when None) against every other active user's vector, and
    store them as this run's batch. Returns the number of matches stored."""
    top = settings.WELLNESS_MATCHES if top is None else top
    wanted = None if users is None else {getattr(u, "pk", u) for u in users}
    groups = defaultdict(lambda: ([], []))
    features = UserFeature.objects.filter(user__is_active=True).values_list(
        "user_id", "version", "vector"
    )
    for user_id, version, vector in features.iterator(chunk_size=5000):
        ids, vectors = groups[version, len(vector)]
        ids.append(user_id)
        vectors.append(vector)
    created_at = timezone.now()
    found = [
        (user_id, target, score, created_at)
        for ids, vectors in groups.values()
        for user_id, target, score in _best(ids, vectors, wanted, top)
    ]
    with transaction.atomic():
        old = MatchResult.objects.filter(created_at__lt=created_at)
        if wanted is not None:
            old = old.filter(user_id__in=wanted)
        old.delete()
        insert_rows(MatchResult, COLUMNS, batches(found))
    return len(found)
