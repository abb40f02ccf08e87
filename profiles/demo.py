"""profiles' part of ``manage.py seed_demo`` (config/seeding.py): users with
taglines and profiles, posts, reactions, highlights, and a staff account.

Rows are bulk-inserted (the services would cost queries per row); what the
services would do afterwards is done once at the end: the demo users' cached
stats are cleared.
"""

import secrets

from django.contrib.auth.hashers import make_password
from django.db.models import Count

from config.seeding import USERNAME_PREFIX, Demo, batches
from profiles.models import (
    Post,
    Reaction,
    ReactionKind,
    User,
    UserHighlight,
    UserProfile,
)
from profiles.stats import stats_invalidate

USERS_PER_SCALE = 20
POSTS_PER_USER = 10
REACTIONS_PER_USER = 20
HIGHLIGHTS_PER_USER = 5
# Published on purpose: demo accounts (seed_demo refuses to run with DEBUG off).
PASSWORD = "demo password 2026"  # noqa: S105
STAFF_USERNAME = f"{USERNAME_PREFIX}admin"

TAGLINES = [
    "Coffee first ☕",
    "Building small things that last 🛠️",
    "שלום עולם",
    "漢字とコーヒーが好き",
    "🇵🇹 Lisbon → 🇯🇵 Tokyo",
    "Runner 🏃🏽‍♀️ and reader 📚",
    "Café au lait, s'il vous plaît",
    None,
]
BIOS = [
    "Writes about gardens and databases.",
    "Weekend hiker, weekday debugger.",
    "Collects old maps.",
    None,
]
LOCATIONS = ["Lisbon", "Tokyo", "Berlin", "São Paulo", "Nairobi", None]
SENTENCES = [
    "Shipped the first version today.",
    "Anyone else up for a walk at lunch?",
    "Reading about B-trees again.",
    "The tomatoes finally came in 🍅",
    "Small steps, every day.",
    "Trying a new recipe tonight.",
    "What is everyone listening to?",
]


def seed(demo: Demo) -> None:
    users = _users(demo)
    _staff(demo)
    posts = _posts(demo, users)
    _reactions(demo, users, posts)
    _highlights(demo, users, posts)
    stats_invalidate(user.pk for user in users)
    demo.say(
        f"{len(users)} demo users ({users[0].username} ...) share the password "
        f"{PASSWORD!r}."
    )


def _users(demo: Demo) -> list[User]:
    wanted = [
        f"{USERNAME_PREFIX}user-{i:05d}" for i in range(demo.scale * USERS_PER_SCALE)
    ]
    existing = set(
        User.objects.filter(username__in=wanted).values_list("username", flat=True)
    )
    password = make_password(PASSWORD)  # hashed once, shared
    new = [
        User(
            username=name,
            email=f"{name}@demo.example",
            password=password,
            tagline=TAGLINES[i % len(TAGLINES)],
        )
        for i, name in enumerate(wanted)
        if name not in existing
    ]
    for batch in demo.progress(batches(new), "users", len(new)):
        User.objects.bulk_create(batch)
    users = list(demo.users().filter(username__in=wanted))
    profiles = [
        UserProfile(
            user=user,
            display_name=user.username.removeprefix(USERNAME_PREFIX).title(),
            bio=BIOS[i % len(BIOS)],
            location=LOCATIONS[i % len(LOCATIONS)],
            journaling_frequency=i % 8,
        )
        for i, user in enumerate(users)
    ]
    UserProfile.objects.bulk_create(profiles, ignore_conflicts=True)
    return users


def _staff(demo: Demo) -> None:
    if User.objects.filter(username=STAFF_USERNAME).exists():
        demo.say(
            f"Staff account {STAFF_USERNAME!r} exists (new password: "
            f"manage.py changepassword {STAFF_USERNAME})."
        )
        return
    password = secrets.token_urlsafe(12)
    User.objects.create_superuser(
        username=STAFF_USERNAME,
        email=f"{STAFF_USERNAME}@demo.example",
        password=password,
    )
    demo.say(f"Staff account for /admin/: {STAFF_USERNAME} / {password}")


def _posts(demo: Demo, users: list[User]) -> list[int]:
    counts = dict(
        Post.objects.filter(author__in=users)
        .values_list("author")
        .annotate(n=Count("pk"))
        .values_list("author", "n")
    )
    new = [
        Post(author=user, body=SENTENCES[(i + n) % len(SENTENCES)])
        for i, user in enumerate(users)
        for n in range(counts.get(user.pk, 0), POSTS_PER_USER)
    ]
    for batch in demo.progress(batches(new), "posts", len(new)):
        Post.objects.bulk_create(batch)
    return list(
        Post.objects.filter(author__in=users)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _reactions(demo: Demo, users: list[User], posts: list[int]) -> None:
    kinds = ReactionKind.values
    rows = [
        Reaction(user=user, post_id=post_id, kind=demo.rng.choice(kinds))
        for user in users
        for post_id in demo.rng.sample(posts, min(REACTIONS_PER_USER, len(posts)))
    ]
    for batch in demo.progress(batches(rows), "reactions", len(rows)):
        Reaction.objects.bulk_create(batch, ignore_conflicts=True)


def _highlights(demo: Demo, users: list[User], posts: list[int]) -> None:
    has_some = set(
        UserHighlight.objects.filter(user__in=users).values_list("user", flat=True)
    )
    rows = [
        UserHighlight(user=user, post_id=post_id, position=position)
        for user in users
        if user.pk not in has_some
        for position, post_id in enumerate(
            demo.rng.sample(posts, min(HIGHLIGHTS_PER_USER, len(posts)))
        )
    ]
    for batch in demo.progress(batches(rows), "highlights", len(rows)):
        UserHighlight.objects.bulk_create(batch)
