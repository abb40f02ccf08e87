"""profiles' part of ``manage.py seed_demo`` (config/seeding.py): users with
taglines and profiles, posts, reactions, highlights, and a staff account.

Scale N: 20·N users with 2·N posts each (10 to 100), reacting to 20·N posts
each over the last year, at most a million reactions in all (scale 50: 1 000
users, 100 000 posts, about a million reactions; scale 500: 10 000 users,
a million posts and a million reactions); the first user reacts 30 times as
often (a heavy user for the benchmarks). Rows are bulk-inserted (the services
would cost queries per row); what the services would do afterwards is done
once at the end: the demo users' cached stats are cleared.
"""

import secrets
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db.models import Count

from config.seeding import USERNAME_PREFIX, Demo, batches, bulk_insert
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
REACTIONS_PER_SCALE = 20
MAX_POSTS_PER_USER = 100
MAX_REACTIONS = 1_000_000
HEAVY_REACTOR_FACTOR = 30
HIGHLIGHTS_PER_USER = 5
YEAR = timedelta(days=365)
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


def _posts(demo: Demo, users: list[User]) -> dict[int, object]:
    """Top each user's posts up to the scale's number; return every demo
    post's id and creation time."""
    per_user = max(10, min(2 * demo.scale, MAX_POSTS_PER_USER))
    counts = dict(
        Post.objects.filter(author__in=users)
        .values_list("author")
        .annotate(n=Count("pk"))
        .values_list("author", "n")
    )
    rows = []
    for user in users:
        rng = demo.rng(f"posts:{user.username}")
        created = sorted(demo.now - rng.random() * YEAR for _ in range(per_user))
        rows += [
            (user.pk, SENTENCES[n % len(SENTENCES)], created[n])
            for n in range(counts.get(user.pk, 0), per_user)
        ]
    bulk_insert(demo, Post, ["author_id", "body", "created_at"], rows, "posts")
    return dict(
        Post.objects.filter(author__in=users)
        .order_by("pk")
        .values_list("pk", "created_at")
    )


def _reactions(demo: Demo, users: list[User], posts: dict) -> None:
    """Each user without reactions reacts to posts of the last year, after
    they were posted; the first user many times more."""
    reacted = set(
        Reaction.objects.filter(user__in=users)
        .values_list("user", flat=True)
        .distinct()
    )
    post_ids, kinds = list(posts), ReactionKind.values
    rows = []
    for index, user in enumerate(users):
        if user.pk in reacted:
            continue
        rng = demo.rng(f"reactions:{user.username}")
        count = min(REACTIONS_PER_SCALE * demo.scale, MAX_REACTIONS // len(users))
        count *= HEAVY_REACTOR_FACTOR if index == 0 else 1
        for post_id in rng.sample(post_ids, min(count, len(post_ids))):
            posted = posts[post_id]
            when = posted + rng.random() * (demo.now - posted)
            rows.append((user.pk, post_id, rng.choice(kinds), when))
    fields = ["user_id", "post_id", "kind", "created_at"]
    bulk_insert(demo, Reaction, fields, rows, "reactions")


def _highlights(demo: Demo, users: list[User], posts: dict) -> None:
    has_some = set(
        UserHighlight.objects.filter(user__in=users).values_list("user", flat=True)
    )
    post_ids = list(posts)
    rows = [
        (user.pk, post_id, position)
        for user in users
        if user.pk not in has_some
        for position, post_id in enumerate(
            demo.rng(f"highlights:{user.username}").sample(
                post_ids, min(HIGHLIGHTS_PER_USER, len(post_ids))
            )
        )
    ]
    fields = ["user_id", "post_id", "position"]
    bulk_insert(demo, UserHighlight, fields, rows, "highlights")
