"""Every write of the safety app with a rule in it: the API, the admin (and
the WebSocket consumers of the real-time issue) call these.

Refusals are ``ValidationError`` (a 400 naming the field) when the input is
wrong, ``PermissionDenied`` (a 403 saying why) when the caller may not (a
banned or muted user posting), and ``Http404`` for what the caller may not
see: a private room of others, a user hidden from them by a block, either way
(docs/design.md#blocks), answer as if they did not exist.
"""

import hashlib
import hmac
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from config import privacy
from safety import events
from safety.models import (
    ActionType,
    Block,
    ChatRoom,
    ChatRoomMember,
    ChatRoomMessage,
    Location,
    ModerationAction,
    Presence,
    PrivateMessage,
    Report,
    ReportStatus,
    Role,
    Status,
)

# Media the rooms and private messages take (seed 004: image and audio only).
MEDIA_EXTENSIONS = {
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".heic", ".avif",
    ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac",
}  # fmt: skip
RANK = {Role.USER: 0, Role.AGENT: 0, Role.MODERATOR: 1, Role.OWNER: 2}


# --- media ------------------------------------------------------------------------


def media_url_clean(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL of an image or audio file (by its
    path's extension); ``None`` for none; a ``ValidationError`` otherwise."""
    if url is None or url == "":
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError({"media_url": "Give an http(s) URL."})
    path = parts.path.lower()
    if not any(path.endswith(ext) for ext in MEDIA_EXTENSIONS):
        raise ValidationError(
            {
                "media_url": "Only images and audio files: "
                + ", ".join(sorted(MEDIA_EXTENSIONS))
                + "."
            }
        )
    return url


# --- blocks and mutes ---------------------------------------------------------------


NO_SUCH_USER = "No such user."


def not_hidden(reader, user) -> None:
    """Refuse ``reader`` acting on ``user`` when ``user`` is hidden from them
    (a block, either way), as if ``user`` did not exist: no answer may say
    why. One query."""
    users = get_user_model().objects.filter(pk=user.pk)
    if users.filter(privacy.hidden("pk", reader)).exists():
        raise Http404(NO_SUCH_USER)


def block(*, blocker, blocked) -> Block:
    if blocker.pk == blocked.pk:
        raise ValidationError({"blocked_id": "You cannot block yourself."})
    found, _ = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    events.blocks_changed(blocker.pk, blocked.pk)
    return found


def unblock(*, blocker, blocked_id) -> None:
    deleted, _ = Block.objects.filter(blocker=blocker, blocked_id=blocked_id).delete()
    if not deleted:
        raise Block.DoesNotExist("You have not blocked this user.")
    events.blocks_changed(blocker.pk, blocked_id)


def muted_until(user):
    """When ``user``'s mute ends (``timezone.datetime.max`` for a permanent
    one), or None when they are not muted."""
    now = timezone.now()
    ends = None
    mutes = ModerationAction.objects.filter(
        target_user=user, action_type=ActionType.MUTE
    )
    for created_at, minutes in mutes.values_list("created_at", "duration_minutes"):
        end = (
            timezone.make_aware(timezone.datetime.max - timedelta(days=1))
            if minutes is None
            else created_at + timedelta(minutes=minutes)
        )
        if end > now and (ends is None or end > ends):
            ends = end
    return ends


def not_muted(user) -> None:
    if (ends := muted_until(user)) is not None:
        raise PermissionDenied(f"You are muted until {ends:%Y-%m-%d %H:%M} UTC.")


# --- rooms --------------------------------------------------------------------------


def capacity(room: ChatRoom) -> int:
    """How many members ``room`` may hold: its ``max_participants``, capped
    by ``SAFETY_ROOM_CAPACITY`` (10 for Alpha)."""
    return min(room.max_participants, settings.SAFETY_ROOM_CAPACITY)


@transaction.atomic
def room_create(*, owner, **fields) -> ChatRoom:
    """A room, with ``owner`` as its ``OWNR`` member."""
    room = ChatRoom.objects.create(owner=owner, **fields)
    ChatRoomMember.objects.create(room=room, user=owner, role=Role.OWNER)
    return room


def visible_room(user, room_id) -> ChatRoom:
    """The room ``room_id`` if ``user`` may see it (public, or theirs), else
    a 404: a private room of others does not exist for them."""
    return get_object_or_404(ChatRoom.objects.visible_to(user), pk=room_id)


def active_user(user_id, reader):
    """The active user ``user_id`` whom ``reader`` may see (to message or
    invite), or a 404: one hidden from them answers as one that does not
    exist."""
    users = get_user_model().objects.filter(is_active=True)
    found = users.exclude(privacy.hidden("pk", reader)).filter(pk=user_id).first()
    if found is None:
        raise Http404(NO_SUCH_USER)
    return found


def membership(room, user) -> ChatRoomMember | None:
    return ChatRoomMember.objects.filter(room=room, user=user).first()


def _add_member(room: ChatRoom, user, role: Role = Role.USER) -> ChatRoomMember:
    """Add ``user`` to ``room``, the room's row locked so that joins at once
    never hold more members than its capacity."""
    ChatRoom.objects.select_for_update().filter(pk=room.pk).get()
    existing = membership(room, user)
    if existing is not None:
        if existing.is_banned:
            raise PermissionDenied("You are banned from this room.")
        raise ValidationError({"user_id": "Already a member of this room."})
    members = ChatRoomMember.objects.filter(room=room, is_banned=False).count()
    if members >= capacity(room):
        raise ValidationError(
            {"room_id": f"The room is full ({capacity(room)} members)."}
        )
    added = ChatRoomMember.objects.create(room=room, user=user, role=role)
    events.member("joined", added)
    return added


@transaction.atomic
def room_join(*, room: ChatRoom, user) -> ChatRoomMember:
    """Join a public room (a private one takes an invitation)."""
    if not room.is_public:
        raise PermissionDenied("This room is private: ask its owner or a moderator.")
    return _add_member(room, user)


def _acting(room, actor) -> ChatRoomMember:
    found = membership(room, actor)
    if (
        found is None
        or found.is_banned
        or found.role not in (Role.OWNER, Role.MODERATOR)
    ):
        raise PermissionDenied("Only the room's owner and moderators can do this.")
    return found


@transaction.atomic
def room_invite(*, room: ChatRoom, by, user) -> ChatRoomMember:
    """The owner or a moderator adds ``user`` (to a private room too)."""
    _acting(room, by)
    not_hidden(by, user)
    return _add_member(room, user)


def room_leave(*, room: ChatRoom, user) -> None:
    found = membership(room, user)
    if found is None or found.is_banned:
        raise ChatRoomMember.DoesNotExist("You are not a member of this room.")
    if found.role == Role.OWNER:
        raise ValidationError({"room_id": "The owner cannot leave; delete the room."})
    found.delete()
    events.member_left(room.pk, found.user_id)


def _outranked(room, actor, member: ChatRoomMember) -> None:
    mine = _acting(room, actor)
    if RANK[Role(member.role)] >= RANK[Role(mine.role)]:
        raise PermissionDenied("You can only act on members below your role.")


def member_ban(*, room: ChatRoom, by, member: ChatRoomMember, banned: bool = True):
    """Ban (or unban) a member: a banned member cannot post, rejoin or read
    the room's messages."""
    _outranked(room, by, member)
    member.is_banned = banned
    member.save(update_fields=["is_banned"])
    events.member("banned" if banned else "unbanned", member)
    return member


def member_role_set(*, room: ChatRoom, by, member: ChatRoomMember, role: str):
    """Promote a member to moderator or demote one (``MOD``/``USER``); the
    owner alone does it. ``AGENT`` is reserved and ``OWNR`` is the owner's."""
    if role not in (Role.MODERATOR, Role.USER):
        raise ValidationError({"role": "Only MOD and USER can be given."})
    mine = _acting(room, by)
    if mine.role != Role.OWNER:
        raise PermissionDenied("Only the room's owner promotes and demotes.")
    if member.role == Role.OWNER:
        raise ValidationError({"role": "The owner's role does not change."})
    member.role = role
    member.save(update_fields=["role"])
    events.member("role", member)
    return member


def staff_member_saved(member: ChatRoomMember, *, created: bool, changed=()) -> None:
    """A membership staff added or changed in the admin (which may do what
    no member may: ban an owner's moderator, say), told to the room and the
    member's sockets as the same change through the API would be."""
    if created:
        events.member("joined", member)
        return
    if "is_banned" in changed:
        events.member("banned" if member.is_banned else "unbanned", member)
    if "role" in changed:
        events.member("role", member)


def staff_member_deleted(member: ChatRoomMember) -> None:
    """A membership staff deleted in the admin: the member has left."""
    events.member_left(member.room_id, member.user_id)


def reader(room, user) -> ChatRoomMember:
    """``user``'s membership if they may read and post in ``room``."""
    found = membership(room, user)
    if found is None:
        raise PermissionDenied("Join the room to read and post.")
    if found.is_banned:
        raise PermissionDenied("You are banned from this room.")
    return found


@transaction.atomic
def room_message_post(*, room, user, message: str, media_url: str | None = None):
    reader(room, user)
    not_muted(user)
    message_row = ChatRoomMessage.objects.create(
        room=room, user=user, message=message, media_url=media_url_clean(media_url)
    )
    ChatRoomMember.objects.filter(room=room, user=user).update(
        last_seen_at=message_row.created_at
    )
    events.room_message(message_row)
    return message_row


# --- private messages ---------------------------------------------------------------


def private_message_send(*, sender, recipient, message: str, media_url=None):
    """A message from ``sender`` to ``recipient``: refused, nothing stored,
    when the sender is muted (403) or either blocked the other (404, as for
    a user who does not exist)."""
    if sender.pk == recipient.pk:
        raise ValidationError({"recipient_id": "You cannot message yourself."})
    not_hidden(sender, recipient)
    not_muted(sender)
    sent = PrivateMessage.objects.create(
        sender=sender,
        recipient=recipient,
        message=message,
        media_url=media_url_clean(media_url),
    )
    events.private_message(sent)
    return sent


# --- presence -----------------------------------------------------------------------


def presence_heartbeat(*, user, status: str, activity=None, room_id=None) -> Presence:
    """Record that ``user`` is here now (one row per user, upserted), in
    room ``room_id`` if given (one they may read). The rooms they are in hear
    of it when what others see changes (status, activity or room), not at
    every heartbeat."""
    room = None
    if room_id is not None:
        room = visible_room(user, room_id)
        reader(room, user)
    before = Presence.objects.filter(user=user).first()
    found, _ = Presence.objects.update_or_create(
        user=user,
        defaults={
            "status": status,
            "activity": activity,
            "room": room,
            "last_seen_at": timezone.now(),
        },
    )
    if before is None or _seen(before) != _seen(found):
        _announce_presence({user.pk: found})
    return found


def _seen(presence: Presence) -> tuple:
    return presence.shown_status, presence.activity, presence.room_id


def _announce_presence(presences: dict) -> None:
    """``presence.changed`` in every room where each user is an unbanned
    member (one query for them all)."""
    rooms = ChatRoomMember.objects.filter(user__in=presences, is_banned=False)
    for room_id, user_id in rooms.values_list("room_id", "user_id"):
        events.presence(room_id, presences[user_id])


def presence_cleanup() -> int:
    """Delete the presence rows older than the TTL; the rooms of those who
    had not said they were offline hear that they are."""
    stale = Presence.objects.filter(last_seen_at__lt=Presence.stale_before())
    gone = {row.user_id: row for row in stale.exclude(status=Status.OFFLINE)}
    deleted, _ = stale.delete()
    _announce_presence(gone)
    return deleted


# --- reports and moderation ---------------------------------------------------------


def report_create(*, reporter, **fields) -> Report:
    """A report of a user, a room and/or a message (at least one). A
    message's room and author are recorded with it, so the report still
    names them when the message is gone; the API lets a reporter name only
    a message they can read (``ReportSerializer``), whose room and author
    they see already."""
    targets = ("reported_user", "reported_room", "reported_message")
    if not any(fields.get(name) is not None for name in targets):
        raise ValidationError(
            "Name what you report: reported_user_id, reported_room_id or "
            "reported_message_id."
        )
    report = Report(reporter=reporter, **fields)
    message = fields.get("reported_message")
    if message is not None:  # the record outlives the message: name its room and author
        report.reported_room_id = report.reported_room_id or message.room_id
        report.reported_user_id = report.reported_user_id or message.user_id
    report.save(force_insert=True)
    return report


CLOSED = {ReportStatus.RESOLVED, ReportStatus.DISMISSED}
NEXT_STATUSES = {
    ReportStatus.PENDING: {ReportStatus.REVIEWING, *CLOSED},
    ReportStatus.REVIEWING: CLOSED,
    ReportStatus.RESOLVED: set(),
    ReportStatus.DISMISSED: set(),
}


@transaction.atomic
def report_review(*, report: Report, moderator, status: str) -> Report:
    """Move ``report`` on (pending -> reviewing -> resolved or dismissed),
    recording who and when."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if status not in NEXT_STATUSES[ReportStatus(report.status)]:
        raise ValidationError(
            {"status": f"A {report.status} report cannot become {status}."}
        )
    report.status = status
    report.reviewed_by = moderator
    report.reviewed_at = timezone.now()
    report.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return report


def moderation_action_create(
    *,
    moderator,
    action_type: str,
    reason: str,
    target_user=None,
    duration_minutes=None,
    report=None,
) -> ModerationAction:
    """Log a moderation action (the only way one is written)."""
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why."})
    if action_type == ActionType.MUTE and target_user is None:
        raise ValidationError({"target_user_id": "A mute needs a user."})
    return ModerationAction.objects.create(
        moderator=moderator,
        target_user=target_user,
        action_type=action_type,
        reason=reason.strip(),
        duration_minutes=duration_minutes,
        report=report,
    )


# --- locations ----------------------------------------------------------------------

COORDINATE_STEP = Decimal("0.01")  # about 1.1 km of latitude


def place_hash(name: str) -> str:
    """A keyed hash (HMAC-SHA256 with ``SAFETY_LOCATION_KEY``) of a place's
    name, case and spacing ignored: equal names match, and without the key
    no dictionary of city names reverses it."""
    normalised = " ".join(name.casefold().split())
    key = settings.SAFETY_LOCATION_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def rounded(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(COORDINATE_STEP, rounding=ROUND_HALF_EVEN)


def location_set(*, user, city: str, neighborhood=None, latitude=None, longitude=None):
    if not city.strip():
        raise ValidationError({"city": "Name your city."})
    found, _ = Location.objects.update_or_create(
        user=user,
        defaults={
            "city_hash": place_hash(city),
            "neighborhood_hash": place_hash(neighborhood) if neighborhood else None,
            "latitude": rounded(latitude),
            "longitude": rounded(longitude),
        },
    )
    return found


def nearby(user):
    """Users in ``user``'s city, without those hidden from them (a block,
    either way), each with ``same_neighborhood``: one statement (the
    caller's row is a subquery)."""
    mine = Location.objects.filter(user=user)
    here = Subquery(mine.values("neighborhood_hash")[:1])
    return (
        Location.objects.filter(
            city_hash=Subquery(mine.values("city_hash")[:1]), user__is_active=True
        )
        .exclude(user=user)
        .exclude(privacy.hidden("user", user))
        .annotate(
            same_neighborhood=Coalesce(
                ExpressionWrapper(
                    Q(neighborhood_hash=here), output_field=BooleanField()
                ),
                False,
            )
        )
    )
