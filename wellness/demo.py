"""wellness' part of ``manage.py seed_demo`` (config/seeding.py): each demo
user gets interests among a shared set of tags, a few stories (public,
friends-only and private) tagged from the same set, two habits, a garden and
a 16-number feature vector; then the matching runs for them, so every user
has matches to show.

Rows are bulk-inserted, for users who have no garden yet (a user with one is
done); the tags are made once through ``services.tags_get_or_create``.
"""

from config.seeding import Demo
from wellness import matching, services
from wellness.models import (
    Frequency,
    Garden,
    Habit,
    Story,
    UserFeature,
    UserTag,
    Visibility,
)

TAGS = [
    "growth",
    "meditation",
    "gratitude",
    "running",
    "sleep",
    "journaling",
    "yoga",
    "cooking",
    "reading",
    "nature",
]
STORIES = [
    ("The first quiet morning", "Ten minutes of nothing, and the day felt longer."),
    ("What the garden taught me", "Nothing grows faster because you watch it."),
    ("A week without my phone at night", "I slept, and I remembered my dreams."),
    ("Running in the rain", "Wet shoes, dry mood."),
    ("Small wins", "I wrote one line in my journal. It counts."),
]
HABITS = [
    ("Meditate", Frequency.DAILY, {"minutes": 10}),
    ("Journal", Frequency.DAILY, {"lines": 3}),
    ("Long run", Frequency.WEEKLY, {"km": 10}),
    ("Call a friend", Frequency.WEEKLY, {}),
    ("Declutter a drawer", Frequency.MONTHLY, {}),
]
THEMES = ["zen", "vineyard", "meadow", "desert", None]
DIMENSIONS = 16


def seed(demo: Demo) -> None:
    users = list(demo.users())
    done = set(Garden.objects.filter(user__in=users).values_list("user_id", flat=True))
    new = [user for user in users if user.pk not in done]
    tags = services.tags_get_or_create(TAGS)
    interests, stories, habits, gardens, features = [], [], [], [], []
    for user in demo.progress(new, "wellness", len(new)):
        rng = demo.rng(f"wellness:{user.username}")
        liked = rng.sample(tags, rng.randint(2, 4))
        interests += [UserTag(user=user, tag=tag) for tag in liked]
        visibilities = [
            Visibility.PUBLIC,
            rng.choice([Visibility.PUBLIC, Visibility.FRIENDS]),
            Visibility.PRIVATE,
        ]
        for (title, content), visibility in zip(
            rng.sample(STORIES, 3), visibilities, strict=True
        ):
            names = [tag.name for tag in rng.sample(liked, rng.randint(1, len(liked)))]
            stories.append(
                Story(
                    user=user,
                    title=title,
                    content=content,
                    visibility=visibility,
                    tags_cached=names,
                )
            )
        habits += [
            Habit(user=user, name=name, frequency=frequency, meta=meta)
            for name, frequency, meta in rng.sample(HABITS, 2)
        ]
        gardens.append(
            Garden(
                user=user, name=f"{user.username}'s garden", theme=rng.choice(THEMES)
            )
        )
        vector = [round(rng.uniform(-1, 1), 3) for _ in range(DIMENSIONS)]
        features.append(UserFeature(user=user, vector=vector))
    for model, rows in [
        (UserTag, interests),
        (Story, stories),
        (Habit, habits),
        (Garden, gardens),
        (UserFeature, features),
    ]:
        model.objects.bulk_create(rows, batch_size=2000)
    if new:
        matching.match()
    demo.say(
        f"{len(users)} demo users have interests, stories, habits, a garden "
        "and matches (/api/wellness/)."
    )
