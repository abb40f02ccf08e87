"""The machinery of ``manage.py seed_demo``: each app's ``demo.py``.

An app that has demo data defines ``seed(demo: Demo)`` in ``<app>/demo.py``;
``seed_demo`` runs them in ``INSTALLED_APPS`` order (so ``profiles`` makes the
users the later apps decorate), each in its own transaction. A ``seed`` must be
idempotent: running the command twice at one scale leaves the same rows, so it
adds only what is missing (fixed names, ``ignore_conflicts``, counts topped
up). Apps find the demo users with ``demo.users()``; they need not import one
another.
"""

import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.module_loading import module_has_submodule

USERNAME_PREFIX = "demo-"


@dataclass
class Demo:
    """What each app's ``seed`` gets: the scale, a seeded random generator
    (the same data on every run), a progress bar and a way to tell the user
    something (credentials, hints)."""

    scale: int
    stdout: object = field(default=sys.stdout, repr=False)
    # Seeded: the same demo on every run, which is what makes it idempotent.
    rng: random.Random = field(default_factory=lambda: random.Random(2026))  # noqa: S311

    def users(self):
        """The demo users, in a stable order."""
        return (
            get_user_model()
            .objects.filter(username__startswith=USERNAME_PREFIX, is_staff=False)
            .order_by("username")
        )

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


def batches(rows: list, size: int = 2000) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
