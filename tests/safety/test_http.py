"""The safety API (seed 004): rooms (join, capacity, private rooms by
invitation, bans, roles), room messages for members only with image/audio
media, private messages refused between a blocked pair, blocks hiding users,
presence with a TTL, reports reviewed by staff, an append-only moderation log
and mutes, locations stored as keyed hashes."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from safety import services
from safety.models import (
    Block,
    ChatRoom,
    ChatRoomMember,
    ChatRoomMessage,
    Location,
    ModerationAction,
    Presence,
    PrivateMessage,
    Report,
)
from tests.conftest import token_client
from tests.helpers import (
    assert_error,
    assert_list_queries_constant,
    ok,
    results,
    schema_operations,
)
from tests.profiles.factories import UserFactory
from tests.safety.factories import RoomFactory

pytestmark = pytest.mark.django_db

API = "/api/safety/"


def fields(response, status: int = 400) -> list[str]:
    body = assert_error(response, status, "invalid")
    return [error["field"] for error in body["errors"]]


# --- rooms --------------------------------------------------------------------------


def test_creating_a_room_makes_you_its_owner(api_client, user):
    body = ok(api_client.post(f"{API}chat-rooms/", {"room_name": "Walks"}), 201)
    assert body["owner_id"] == str(user.pk) and body["is_public"] is True
    assert body["max_participants"] == 50 and body["background_color"] == "#1A1A1E"
    member = ChatRoomMember.objects.get()
    assert (member.user_id, member.role) == (user.pk, "OWNR")


def test_public_rooms_are_joined_private_ones_by_invitation(api_client, user):
    public, private = RoomFactory(), RoomFactory(is_public=False)
    ok(api_client.post(f"{API}chat-rooms/{public.pk}/join/"), 201)
    assert fields(api_client.post(f"{API}chat-rooms/{public.pk}/join/")) == ["user_id"]
    # A private room is invisible to non-members: 404, not 403.
    assert_error(
        api_client.post(f"{API}chat-rooms/{private.pk}/join/"), 404, "not_found"
    )
    assert_error(api_client.get(f"{API}chat-rooms/{private.pk}/"), 404, "not_found")
    owner = token_client(private.owner)
    ok(
        owner.post(f"{API}chat-rooms/{private.pk}/members/", {"user_id": str(user.pk)}),
        201,
    )
    assert ok(api_client.get(f"{API}chat-rooms/{private.pk}/"))["id"] == private.pk


def test_a_room_never_holds_more_than_its_capacity(api_client, settings):
    settings.SAFETY_ROOM_CAPACITY = 3
    room = RoomFactory(max_participants=50)
    for _ in range(2):
        services.room_join(room=room, user=UserFactory())
    response = api_client.post(f"{API}chat-rooms/{room.pk}/join/")
    assert fields(response) == ["room_id"]
    assert ChatRoomMember.objects.filter(room=room).count() == 3
    small = RoomFactory(max_participants=1)
    assert fields(api_client.post(f"{API}chat-rooms/{small.pk}/join/")) == ["room_id"]


def test_owner_and_moderators_ban_and_the_banned_cannot_read_post_or_rejoin(
    api_client, user
):
    room = RoomFactory()
    services.room_join(room=room, user=user)
    owner = token_client(room.owner)
    ok(api_client.post(f"{API}chat-rooms/{room.pk}/messages/", {"message": "hi"}), 201)
    ok(owner.post(f"{API}chat-rooms/{room.pk}/members/{user.pk}/ban/"))
    assert_error(
        api_client.post(f"{API}chat-rooms/{room.pk}/messages/", {"message": "x"}),
        403,
        "permission_denied",
    )
    assert_error(
        api_client.get(f"{API}chat-rooms/{room.pk}/messages/"), 403, "permission_denied"
    )
    assert_error(
        api_client.post(f"{API}chat-rooms/{room.pk}/join/"), 403, "permission_denied"
    )
    assert ChatRoomMessage.objects.count() == 1


def test_only_the_owner_promotes_and_members_cannot_ban(api_client, user):
    room = RoomFactory()
    mod, other = UserFactory(), UserFactory()
    for person in (user, mod, other):
        services.room_join(room=room, user=person)
    owner = token_client(room.owner)
    url = f"{API}chat-rooms/{room.pk}/members/"
    assert ok(owner.patch(f"{url}{mod.pk}/", {"role": "MOD"}))["role"] == "MOD"
    assert fields(owner.patch(f"{url}{mod.pk}/", {"role": "AGENT"})) == ["role"]
    moderator = token_client(mod)
    assert_error(
        moderator.patch(f"{url}{other.pk}/", {"role": "MOD"}), 403, "permission_denied"
    )
    ok(moderator.post(f"{url}{other.pk}/ban/"))
    assert_error(api_client.post(f"{url}{mod.pk}/ban/"), 403, "permission_denied")
    assert_error(moderator.post(f"{url}{room.owner.pk}/ban/"), 403, "permission_denied")
    banned = dict(
        ChatRoomMember.objects.filter(room=room).values_list("user_id", "is_banned")
    )
    assert banned == {
        room.owner.pk: False,
        user.pk: False,
        mod.pk: False,
        other.pk: True,
    }


def test_room_messages_newest_first_for_members_only(api_client, user):
    room = RoomFactory()
    services.room_join(room=room, user=user)
    outsider = token_client(UserFactory())
    for n in range(3):
        services.room_message_post(room=room, user=room.owner, message=f"m{n}")
    body = ok(api_client.get(f"{API}chat-rooms/{room.pk}/messages/?page_size=2"))
    assert [row["message"] for row in body["results"]] == ["m2", "m1"]
    more = ok(api_client.get(body["next"]))
    assert [row["message"] for row in more["results"]] == ["m0"]
    assert_error(
        outsider.get(f"{API}chat-rooms/{room.pk}/messages/"), 403, "permission_denied"
    )


@pytest.mark.parametrize(
    "media_url, status",
    [
        (None, 201),
        ("https://cdn.test/a.png", 201),
        ("http://cdn.test/voice.m4a?x=1", 201),
        ("https://cdn.test/clip.mp4", 400),
        ("ftp://cdn.test/a.png", 400),
        ("javascript:alert(1)//a.png", 400),
        ("not a url", 400),
    ],
)
def test_media_is_an_http_url_of_an_image_or_audio_file(
    api_client, user, media_url, status
):
    room = RoomFactory()
    services.room_join(room=room, user=user)
    body = {"message": "look", "media_url": media_url}
    response = api_client.post(f"{API}chat-rooms/{room.pk}/messages/", body)
    assert response.status_code == status, response.content
    if status == 400:
        assert fields(response) == ["media_url"]
        assert not ChatRoomMessage.objects.exists()


# --- private messages and blocks ----------------------------------------------------


def test_private_messages_are_seen_by_their_two_users_only(
    api_client, user, other_user
):
    sent = ok(
        api_client.post(
            f"{API}private-messages/",
            {"recipient_id": str(other_user.pk), "message": "hi"},
        ),
        201,
    )
    assert sent["sender_id"] == str(user.pk)
    third = token_client(UserFactory())
    assert_error(third.get(f"{API}private-messages/{sent['id']}/"), 404, "not_found")
    assert results(third.get(f"{API}private-messages/")) == []
    theirs = results(token_client(other_user).get(f"{API}private-messages/"))
    assert [row["id"] for row in theirs] == [sent["id"]]


def test_a_blocked_pair_cannot_message_either_way(api_client, user, other_user):
    ok(api_client.post(f"{API}blocks/", {"blocked_id": str(other_user.pk)}), 201)
    # Either way the answer is that of a user who does not exist.
    nobody = {"recipient_id": str(uuid.uuid4()), "message": "hi"}
    missing = assert_error(
        api_client.post(f"{API}private-messages/", nobody), 404, "not_found"
    )
    body = {"recipient_id": str(other_user.pk), "message": "hi"}
    assert api_client.post(f"{API}private-messages/", body).json() == missing
    back = {"recipient_id": str(user.pk), "message": "hi"}
    theirs = token_client(other_user)
    assert theirs.post(f"{API}private-messages/", back).json() == missing
    assert not PrivateMessage.objects.exists()
    ok(api_client.delete(f"{API}blocks/{other_user.pk}/"), 204)
    ok(theirs.post(f"{API}private-messages/", back), 201)


def test_blocks_hide_users_from_member_lists_and_nobody_blocks_themselves(
    api_client, user, other_user
):
    assert fields(api_client.post(f"{API}blocks/", {"blocked_id": str(user.pk)})) == [
        "blocked_id"
    ]
    room = RoomFactory()
    services.room_join(room=room, user=user)
    services.room_join(room=room, user=other_user)
    services.block(blocker=other_user, blocked=user)  # they blocked me
    listed = ok(api_client.get(f"{API}chat-rooms/{room.pk}/members/"))
    assert str(other_user.pk) not in {row["user_id"] for row in listed}
    assert len(listed) == 2


# --- presence -----------------------------------------------------------------------


def test_a_heartbeat_upserts_and_an_old_one_reads_offline(api_client, user, settings):
    body = ok(
        api_client.post(
            f"{API}presence/heartbeat/", {"status": "away", "activity": "browsing"}
        )
    )
    assert body["status"] == "away"
    ok(api_client.post(f"{API}presence/heartbeat/", {"status": "online"}))
    assert Presence.objects.get().status == "online"
    Presence.objects.update(last_seen_at=timezone.now() - timedelta(seconds=121))
    assert ok(api_client.get(f"{API}presence/{user.pk}/"))["status"] == "offline"
    settings.SAFETY_PRESENCE_TTL = 600
    assert ok(api_client.get(f"{API}presence/{user.pk}/"))["status"] == "online"


def test_the_cleanup_command_removes_stale_presence(user, other_user):
    from django.core.management import call_command

    services.presence_heartbeat(user=user, status="online")
    services.presence_heartbeat(user=other_user, status="online")
    Presence.objects.filter(user=user).update(
        last_seen_at=timezone.now() - timedelta(hours=1)
    )
    call_command("safety_presence_cleanup")
    assert list(Presence.objects.values_list("user_id", flat=True)) == [other_user.pk]


# --- reports, moderation, mutes -----------------------------------------------------


def test_anyone_reports_and_staff_review(api_client, user, staff_client, staff_user):
    assert fields(api_client.post(f"{API}reports/", {"report_type": "spam"})) == [None]
    body = ok(
        api_client.post(
            f"{API}reports/",
            {"reported_user_id": str(staff_user.pk), "report_type": "spam"},
        ),
        201,
    )
    assert body["status"] == "pending"
    url = f"{API}reports/{body['id']}/review/"
    assert_error(api_client.post(url, {"status": "resolved"}), 403, "permission_denied")
    reviewed = ok(staff_client.post(url, {"status": "reviewing"}))
    assert reviewed["reviewed_by"] == str(staff_user.pk) and reviewed["reviewed_at"]
    ok(staff_client.post(url, {"status": "resolved"}))
    assert fields(staff_client.post(url, {"status": "reviewing"})) == ["status"]
    assert Report.objects.get().status == "resolved"


def test_a_report_names_only_what_the_reporter_can_see(api_client, user, other_user):
    """A private room of others, a message in it, one of a room the reporter
    is not in, one by a user hidden from them (a block), an inactive user:
    each is refused exactly as an id that does not exist, and nothing is
    stored."""
    private = RoomFactory(is_public=False)
    secret = services.room_message_post(room=private, user=private.owner, message="s")
    public = RoomFactory()
    unread = services.room_message_post(room=public, user=public.owner, message="u")
    shared = RoomFactory()
    for member in (user, other_user):
        services.room_join(room=shared, user=member)
    theirs = services.room_message_post(room=shared, user=other_user, message="t")
    services.block(blocker=other_user, blocked=user)
    cases = [
        ("reported_room_id", private.pk, 2**62),
        ("reported_message_id", secret.pk, 2**62),
        ("reported_message_id", unread.pk, 2**62),
        ("reported_message_id", theirs.pk, 2**62),
        ("reported_user_id", str(UserFactory(is_active=False).pk), str(uuid.uuid4())),
    ]
    for field, unseen, nothing in cases:
        answers = [
            api_client.post(f"{API}reports/", {field: value, "report_type": "spam"})
            for value in (unseen, nothing)
        ]
        assert fields(answers[1]) == [field]
        unseen_body, missing_body = (
            answer.content.decode().replace(str(value), "<id>")
            for answer, value in zip(answers, (unseen, nothing), strict=True)
        )
        assert (answers[0].status_code, unseen_body) == (400, missing_body), field
    assert not Report.objects.exists()
    # A user who blocked the reporter stays reportable: the harassed must be
    # able to report a harasser who then blocked them.
    body = {"reported_user_id": str(other_user.pk), "report_type": "harassment"}
    ok(api_client.post(f"{API}reports/", body), 201)


def test_a_block_shields_nobody_from_a_rooms_moderation(api_client, user):
    room = RoomFactory()
    services.room_join(room=room, user=user)
    services.block(blocker=user, blocked=room.owner)
    owner = token_client(room.owner)
    member = f"{API}chat-rooms/{room.pk}/members/{user.pk}/"
    assert_error(owner.get(member), 404, "not_found")  # hidden from the owner
    assert ok(owner.post(f"{member}ban/"))["is_banned"] is True
    assert ChatRoomMember.objects.get(room=room, user=user).is_banned


def test_the_moderation_log_is_append_only_and_needs_a_reason(
    staff_client, api_client, user
):
    url = f"{API}moderation-actions/"
    assert fields(
        staff_client.post(
            url, {"action_type": "warn", "reason": " ", "target_user_id": str(user.pk)}
        )
    ) == ["reason"]
    body = ok(
        staff_client.post(
            url,
            {"action_type": "warn", "reason": "rude", "target_user_id": str(user.pk)},
        ),
        201,
    )
    one = f"{url}{body['id']}/"
    for method in ("put", "patch", "delete"):
        response = getattr(staff_client, method)(one, {"reason": "nothing happened"})
        assert response.status_code == 405
    assert ModerationAction.objects.get().reason == "rude"
    assert_error(api_client.get(url), 403, "permission_denied")


def test_a_muted_user_cannot_post_until_the_mute_ends(
    api_client, user, other_user, staff_user
):
    room = RoomFactory()
    services.room_join(room=room, user=user)
    action = services.moderation_action_create(
        moderator=staff_user,
        target_user=user,
        action_type="mute",
        reason="flood",
        duration_minutes=30,
    )
    post = f"{API}chat-rooms/{room.pk}/messages/"
    assert_error(api_client.post(post, {"message": "x"}), 403, "permission_denied")
    body = {"recipient_id": str(other_user.pk), "message": "x"}
    assert_error(
        api_client.post(f"{API}private-messages/", body), 403, "permission_denied"
    )
    ModerationAction.objects.filter(pk=action.pk).update(
        created_at=timezone.now() - timedelta(minutes=31)
    )
    ok(api_client.post(post, {"message": "back"}), 201)


# --- locations ----------------------------------------------------------------------


def test_a_location_is_stored_as_keyed_hashes_and_rounded_coordinates(
    api_client, user, settings
):
    body = ok(
        api_client.put(
            f"{API}locations/me/",
            {
                "city": " Lisbon ",
                "neighborhood": "Alfama",
                "latitude": 38.72231,
                "longitude": -9.13934,
            },
        )
    )
    row = Location.objects.get()
    stored = " ".join(str(v) for v in Location.objects.values().get().values())
    assert "lisbon" not in stored.lower() and "alfama" not in stored.lower()
    import hashlib

    assert row.city_hash != hashlib.sha256(b"lisbon").hexdigest()
    assert (str(row.latitude), str(row.longitude)) == ("38.72000000", "-9.14000000")
    assert body["city_hash"] == row.city_hash
    settings.SAFETY_LOCATION_KEY = "another key"
    assert services.place_hash("lisbon") != row.city_hash


def test_nearby_lists_users_of_my_city_without_blocked_ones(api_client, user):
    services.location_set(user=user, city="Lisbon", neighborhood="Alfama")
    same, blocked, elsewhere = UserFactory(), UserFactory(), UserFactory()
    services.location_set(user=same, city="LISBON", neighborhood="alfama")
    services.location_set(user=blocked, city="Lisbon")
    services.location_set(user=elsewhere, city="Porto")
    services.block(blocker=blocked, blocked=user)
    rows = results(api_client.get(f"{API}locations/nearby/"))
    assert rows == [
        {"user_id": str(same.pk), "username": same.username, "same_neighborhood": True}
    ]


# --- isolation ----------------------------------------------------------------------


# The rows a stranger may see: presence is every active user's (others'
# rooms show it), and the moderation log is staff's alone (403 for anyone
# else, whatever the id: it tells nothing of which rows exist).
PUBLIC_PATHS = {f"{API}presence/{{user_id}}/"}
STAFF_PATHS = {f"{API}moderation-actions/{{moderation_action_id}}/"}


def private_rows(owner) -> dict:
    """A row of ``owner``'s behind every path parameter of the safety API: a
    private room with a member and a message, a private message to a third
    user, a block, a report, a moderation action taken on them."""
    room = RoomFactory(owner=owner, is_public=False)
    services.room_message_post(room=room, user=owner, message="owner's secret")
    services.block(blocker=owner, blocked=UserFactory())
    message = services.private_message_send(
        sender=owner, recipient=UserFactory(), message="owner's secret"
    )
    report = services.report_create(
        reporter=owner, reported_room=room, report_type="spam"
    )
    action = services.moderation_action_create(
        moderator=UserFactory(is_staff=True),
        action_type="warn",
        reason="the walk",
        target_user=owner,
    )
    return {
        "room_id": room.pk,
        "user_id": owner.pk,
        "blocked_id": Block.objects.get(blocker=owner).blocked_id,
        "private_message_id": message.pk,
        "report_id": report.pk,
        "moderation_action_id": action.pk,
    }


def safety_rows() -> list:
    return [
        list(model.objects.order_by("pk").values())
        for model in (
            ChatRoom,
            ChatRoomMember,
            ChatRoomMessage,
            PrivateMessage,
            Block,
            Report,
            ModerationAction,
        )
    ]


def body_for(path: str) -> dict:
    """A body valid for the write on ``path``: a refusal is then about whose
    row it is, not about the body."""
    for end, body in (
        ("/members/", {"user_id": str(UserFactory().pk)}),
        ("/messages/", {"message": "taken over"}),
        ("/review/", {"status": "reviewing"}),
        ("/{user_id}/", {"role": "MOD"}),
    ):
        if path.endswith(end):
            return body
    return {"room_name": "taken over"}


def test_another_user_gets_404_on_every_private_row_and_verb(user, other_user):
    values = private_rows(user)
    before = safety_rows()
    stranger = token_client(other_user)
    checked = 0
    for method, path, url in schema_operations(API, values):
        if "{" not in path or path in PUBLIC_PATHS:
            continue
        if method in ("get", "delete"):
            response = getattr(stranger, method)(url)
        else:
            response = getattr(stranger, method)(url, body_for(path), format="json")
        if path in STAFF_PATHS:
            assert_error(response, 403, "permission_denied")
        else:
            assert_error(response, 404, "not_found")
            assert "owner's" not in response.content.decode()
        checked += 1
    assert checked == 20
    assert safety_rows() == before
    # Nor do the lists show them.
    for listed in ("chat-rooms/", "private-messages/", "blocks/", "reports/"):
        response = stranger.get(f"{API}{listed}")
        assert response.status_code == 200
        assert "owner's" not in response.content.decode()
        assert not results(response), listed


def test_members_leave_but_the_owner_cannot(api_client, user):
    room = RoomFactory()
    services.room_join(room=room, user=user)
    ok(api_client.post(f"{API}chat-rooms/{room.pk}/leave/"), 204)
    assert_error(api_client.post(f"{API}chat-rooms/{room.pk}/leave/"), 404, "not_found")
    owner = token_client(room.owner)
    assert fields(owner.post(f"{API}chat-rooms/{room.pk}/leave/")) == ["room_id"]
    assert list(ChatRoomMember.objects.values_list("user_id", flat=True)) == [
        room.owner.pk
    ]


def test_a_heartbeat_names_only_a_room_you_are_in(api_client, user):
    room, private = RoomFactory(), RoomFactory(is_public=False)
    response = api_client.post(f"{API}presence/heartbeat/", {"room_id": room.pk})
    assert_error(response, 403, "permission_denied")
    response = api_client.post(f"{API}presence/heartbeat/", {"room_id": private.pk})
    assert_error(response, 404, "not_found")
    services.room_join(room=room, user=user)
    ok(api_client.post(f"{API}presence/heartbeat/", {"room_id": room.pk}))
    rows = results(api_client.get(f"{API}presence/?room_id={room.pk}"))
    assert [(row["user_id"], row["room_id"]) for row in rows] == [
        (str(user.pk), room.pk)
    ]


def test_presence_shows_a_room_only_to_those_who_may_see_it(api_client, user):
    private, public = RoomFactory(is_public=False), RoomFactory()
    inside, elsewhere = private.owner, UserFactory()
    services.presence_heartbeat(user=inside, status="online", room_id=private.pk)
    services.room_join(room=public, user=elsewhere)
    services.presence_heartbeat(user=elsewhere, status="online", room_id=public.pk)
    rooms = {}
    for who, client in (("outsider", api_client), ("member", token_client(inside))):
        listed = results(client.get(f"{API}presence/"))
        rooms[who] = {row["user_id"]: row["room_id"] for row in listed}
        one = ok(client.get(f"{API}presence/{inside.pk}/"))
        assert one["room_id"] == rooms[who][str(inside.pk)]
    # A private room is shown to its members only; a public one to everyone.
    assert rooms["outsider"] == {str(inside.pk): None, str(elsewhere.pk): public.pk}
    assert rooms["member"] == {str(inside.pk): private.pk, str(elsewhere.pk): public.pk}
    # Nor does filtering by it tell an outsider who is there.
    assert results(api_client.get(f"{API}presence/?room_id={private.pk}")) == []


def test_the_presence_list_costs_the_same_whatever_rooms_it_shows(api_client):
    def add_rows(n):
        for index in range(n):
            room = RoomFactory(is_public=index % 2 == 0)
            services.presence_heartbeat(
                user=room.owner, status="online", room_id=room.pk
            )

    assert_list_queries_constant(api_client, f"{API}presence/", add_rows, budget=1)


def test_a_message_report_names_the_room_and_author(api_client, user):
    room = RoomFactory()
    services.room_join(room=room, user=user)
    message = services.room_message_post(room=room, user=room.owner, message="spam")
    body = ok(
        api_client.post(
            f"{API}reports/",
            {"reported_message_id": message.pk, "report_type": "spam"},
        ),
        201,
    )
    assert (body["reported_room_id"], body["reported_user_id"]) == (
        room.pk,
        str(room.owner.pk),
    )
