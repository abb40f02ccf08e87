"""The machinery of ``manage.py seed_demo``: each app's ``demo.py``.

An app that has demo data defines ``seed(demo: Demo)`` in ``<app>/demo.py``;
``seed_demo`` runs them in ``INSTALLED_APPS`` order (so ``profiles`` makes the
users the later apps decorate), each in its own transaction. A ``seed`` must be
idempotent: running the command twice at one scale leaves the same rows, so it
adds only what is missing (fixed names, counts topped up, a user's rows only
when they have none). Random choices come from ``demo.rng(key)``, seeded by
``key`` (a username, say), so a row's values do not depend on what else was
made before it. Apps find the demo users with ``demo.users()``; they need not
import one another. ``bulk_insert`` writes many rows fast (COPY on PostgreSQL).

At scale the services would cost minutes (queries per row), so an app makes
its lived-in demo (rooms joined, reports reviewed, the agent's replies)
through the services for ``demo.showcase()``, the first ``SHOWCASE`` users,
and gives the others the same kinds of rows by ``bulk_insert``: the volume
the benchmarks read (docs/benchmarks.md says how much at each scale).
"""

import random
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from config.bulk import batches, insert_rows

USERNAME_PREFIX = "demo-"
# Demo users made through the services; the others' rows are bulk-inserted.
SHOWCASE = 10


@dataclass
class Demo:
    """What each app's ``seed`` gets: the scale, a seeded random generator
    (the same data on every run), a progress bar and a way to tell the user
    something (credentials, hints)."""

    scale: int
    stdout: object = field(default=sys.stdout, repr=False)
    # One instant for the whole run: "the last year" of demo activity ends here.
    now: datetime = field(default_factory=timezone.now)

    @staticmethod
    def rng(key: str) -> random.Random:
        """A random generator seeded by ``key``: the same values on every run,
        which is what lets a seed add only what is missing."""
        return random.Random(f"demo:{key}")  # noqa: S311  (not for secrets)

    def users(self):
        """The demo users, in a stable order."""
        return (
            get_user_model()
            .objects.filter(username__startswith=USERNAME_PREFIX, is_staff=False)
            .order_by("username")
        )

    def showcase(self, users: list) -> list:
        """The users whose demo goes through the services (the first
        ``SHOWCASE``); ``users`` as ``demo.users()`` orders them."""
        return users[:SHOWCASE]

    @staticmethod
    def uuid_from(rng: random.Random) -> uuid.UUID:
        """A random UUID from ``rng`` (the same on every run), for a row whose
        children are inserted in the same batch."""
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def say(self, text: str) -> None:
        self.stdout.write(text)

    def progress(self, items: Iterable, label: str, total: int) -> Iterator:
        """Yield ``items`` while drawing ``label [#####     ] 50% (n/total)``:
        redrawn in place on a terminal, once at the end otherwise. Items that
        are lists (batches) count for their length."""
        tty = getattr(self.stdout, "isatty", lambda: False)()
        done = 0
        for item in items:
            yield item
            done += len(item) if isinstance(item, list) else 1
            if tty:
                self.stdout.write(self._bar(label, done, total), ending="\r")
        self.stdout.write(self._bar(label, total, total))

    @staticmethod
    def _bar(label: str, done: int, total: int, width: int = 30) -> str:
        share = done / total if total else 1
        filled = round(width * share)
        bar = "#" * filled + " " * (width - filled)
        return f"{label:<24} [{bar}] {share:4.0%} ({done}/{total})"


def app_demos() -> list:
    """The ``demo`` modules of the installed apps, in ``INSTALLED_APPS`` order."""
    return [
        import_module(f"{config.name}.demo")
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, "demo")
    ]


def bulk_insert(demo: Demo, model, fields: list[str], rows: list[tuple], label: str):
    """``config.bulk.insert_rows`` of ``rows``, drawing a progress bar."""
    insert_rows(model, fields, demo.progress(batches(rows), label, len(rows)))
