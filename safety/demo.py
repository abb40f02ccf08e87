"""safety's part of ``manage.py seed_demo`` (config/seeding.py): one room per
ten demo users (every third private) that the next users join up to its
capacity, a few messages in each, private messages between neighbours, a
heartbeat, a location in one of a few cities, a block, and a report of a
room message reviewed by the staff account with a warning logged.

Through the services (capacity, blocks and the log follow the rules), for
users who have no location yet (a user with one is done).
"""

from django.contrib.auth import get_user_model

from config.seeding import USERNAME_PREFIX, Demo
from safety import services
from safety.models import Location

CITIES = [("Lisbon", 38.72, -9.14), ("Tokyo", 35.68, 139.69), ("Nairobi", -1.29, 36.82)]
LINES = ["hi all", "anyone up for a walk?", "good morning ☀️", "that was fun", "brb"]
PER_ROOM = 10


def seed(demo: Demo) -> None:
    users = list(demo.users())
    done = set(
        Location.objects.filter(user__in=users).values_list("user_id", flat=True)
    )
    new = [user for user in users if user.pk not in done]
    staff = (
        get_user_model()
        .objects.filter(is_staff=True, username__startswith=USERNAME_PREFIX)
        .order_by("username")
        .first()
    )
    room = None
    for index, user in enumerate(demo.progress(new, "safety", len(new))):
        rng = demo.rng(f"safety:{user.username}")
        if index % PER_ROOM == 0:
            room = services.room_create(
                owner=user,
                room_name=f"{user.username}'s room",
                is_public=index % (3 * PER_ROOM) != 2 * PER_ROOM,
            )
        elif room.is_public:
            services.room_join(room=room, user=user)
        else:
            services.room_invite(room=room, by=room.owner, user=user)
        message = services.room_message_post(
            room=room, user=user, message=rng.choice(LINES)
        )
        if index % PER_ROOM:
            previous = new[index - 1]
            services.private_message_send(
                sender=user, recipient=previous, message=rng.choice(LINES)
            )
        services.presence_heartbeat(user=user, status="online", room_id=room.pk)
        city, latitude, longitude = rng.choice(CITIES)
        services.location_set(
            user=user,
            city=city,
            latitude=latitude + rng.uniform(-0.05, 0.05),
            longitude=longitude + rng.uniform(-0.05, 0.05),
        )
        if index % PER_ROOM == 5:
            report = services.report_create(
                reporter=room.owner, reported_message=message, report_type="spam"
            )
            if staff is not None:
                services.report_review(
                    report=report, moderator=staff, status="resolved"
                )
                services.moderation_action_create(
                    moderator=staff,
                    target_user=user,
                    action_type="warn",
                    reason="Spam in a room (demo).",
                    report=report,
                )
        if index % PER_ROOM == 9:
            services.block(blocker=user, blocked=new[index - 8])
    demo.say(
        f"{len(users)} demo users chat in rooms of up to {PER_ROOM}, with private "
        "messages, presence, locations, a report and a block (/api/safety/)."
    )
