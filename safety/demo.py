"""safety's part of ``manage.py seed_demo`` (config/seeding.py).

The showcase users, through the services (capacity, blocks and the log
follow the rules), for users who have no location yet (a user with one is
done): one room per ten users (every third private) that the next users join
up to its capacity, a message each, private messages between neighbours, a
heartbeat, a location in one of a few cities, a block, and a report of a
room message reviewed by the staff account with a warning logged.

The other demo users, bulk-inserted, for users in no room yet: rooms of ten
in the same pattern, ``ROOM_MESSAGES_PER_USER`` messages each in their room
over the last month and ``PRIVATE_MESSAGES_PER_USER`` exchanged with the user
before them (scale 500: 10 000 users, about 200 000 room messages and 100 000
private messages).
"""

from datetime import timedelta

from django.contrib.auth import get_user_model

from config.seeding import USERNAME_PREFIX, Demo, bulk_insert
from safety import services
from safety.models import (
    ChatRoom,
    ChatRoomMember,
    ChatRoomMessage,
    Location,
    PrivateMessage,
    Role,
)

CITIES = [("Lisbon", 38.72, -9.14), ("Tokyo", 35.68, 139.69), ("Nairobi", -1.29, 36.82)]
LINES = ["hi all", "anyone up for a walk?", "good morning ☀️", "that was fun", "brb"]
PER_ROOM = 10
ROOM_MESSAGES_PER_USER = 21
PRIVATE_MESSAGES_PER_USER = 11
MONTH = timedelta(days=30)


def seed(demo: Demo) -> None:
    users = list(demo.users())
    _showcase(demo, demo.showcase(users))
    _volume(demo, users[len(demo.showcase(users)) :])
    demo.say(
        f"{len(users)} demo users chat in rooms of up to {PER_ROOM}, with private "
        "messages, presence, locations, a report and a block (/api/safety/)."
    )


def _showcase(demo: Demo, users: list) -> None:
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
    for index, user in enumerate(demo.progress(new, "safety showcase", len(new))):
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


def _volume(demo: Demo, users: list) -> None:
    """Rooms of ``PER_ROOM`` users (the first owns it), their messages, and
    private messages between neighbours, for users in no room yet."""
    joined = set(
        ChatRoomMember.objects.filter(user__in=users).values_list("user_id", flat=True)
    )
    new = [user for user in users if user.pk not in joined]
    groups = [new[i : i + PER_ROOM] for i in range(0, len(new), PER_ROOM)]
    rooms = ChatRoom.objects.bulk_create(
        ChatRoom(
            owner=group[0],
            room_name=f"{group[0].username}'s room",
            is_public=n % 3 != 2,
        )
        for n, group in enumerate(groups)
    )
    members, messages, private = [], [], []
    for room, group in zip(rooms, groups, strict=True):
        for index, user in enumerate(group):
            rng = demo.rng(f"safety-volume:{user.username}")
            members.append((room.pk, user.pk, Role.OWNER if index == 0 else Role.USER))
            for _ in range(ROOM_MESSAGES_PER_USER):
                when = demo.now - rng.random() * MONTH
                messages.append((room.pk, user.pk, rng.choice(LINES), when))
            if index == 0:
                continue
            other = group[index - 1]
            for n in range(PRIVATE_MESSAGES_PER_USER + index % 2):
                sender, recipient = (user, other) if n % 2 == 0 else (other, user)
                when = demo.now - rng.random() * MONTH
                private.append((sender.pk, recipient.pk, rng.choice(LINES), when))
    bulk_insert(
        demo, ChatRoomMember, ["room_id", "user_id", "role"], members, "room members"
    )
    fields = ["room_id", "user_id", "message", "created_at"]
    bulk_insert(demo, ChatRoomMessage, fields, messages, "room messages")
    fields = ["sender_id", "recipient_id", "message", "created_at"]
    bulk_insert(demo, PrivateMessage, fields, private, "private messages")
