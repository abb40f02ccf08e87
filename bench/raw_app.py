"""The baseline: the benchmark's hot reads and writes as a bare WSGI app on
psycopg.

No framework: a regex per URL, the best SQL a person would write for the same
JSON (the lightning tab's is the project's own statement, which is already
that), orjson, one persistent connection per worker, and tokens (and the
service account's permissions) checked once per process. ``bench/run.py``
serves it with the same server and workers as the project and checks that
both answer the same bodies to the reads, and the same status and keys to
the writes, whose rows it then finds in the database.

The writes make the project's checks and have its effects, each in one
transaction: the highlights' reorder (the user's lock, the permutation check,
two UPDATEs: the unique (user_id, position) is not deferrable), an
invitation's acceptance (the invitation's lock, its checks, the member
inserted or updated, the invitation updated and the INVITED relationship),
a room message (the room's visibility, the membership, ban and mute checked
in one statement, the message and the member's last_seen_at in another, then
a Redis PUBLISH for the sockets), and a participation batch (the fields
checked, the members looked up, one multi-row INSERT, their last_active_at).

    DATABASE_URL=postgres://... REDIS_URL=redis://... gunicorn bench.raw_app:app
"""

import base64
import datetime
import os
import pickle
import re
import uuid
from urllib.parse import parse_qs, urlencode

import orjson
import psycopg
import redis
from psycopg.types.json import Jsonb

from profiles.sql import REACTED_POSTS_SQL  # the project's statement, no Django

PAGE = 50
OPTIONS = orjson.OPT_UTC_Z

# community_members' columns as its list shows them (invited_by is a member_id).
MEMBER = (
    "member_id",
    "telegram_id",
    "telegram_username",
    "name",
    "primary_role",
    "organization",
    "country",
    "github_username",
    "github_verified",
    "github_verified_at",
    "github_profile_data",
    "status",
    "reputation_score",
    "reputation_tier",
    "invited_by",
    "registration_fee_paid",
    "registration_fee_tx_hash",
    "profile_data",
    "created_at",
    "updated_at",
    "last_active_at",
)
# The users hidden from the reader (parameters: the reader, twice): those
# they blocked and those who blocked them, as the project's rule
# (config.privacy, safety's Block.objects.hidden_from) selects them. Every
# read that shows people leaves them out, as the project's do.
HIDDEN = (
    "SELECT blocked_id FROM blocks WHERE blocker_id = %s"
    " UNION ALL SELECT blocker_id FROM blocks WHERE blocked_id = %s"
)
# The SQL of each read, also replayed alone by pgbench (bench/run.py).
SQL = {
    "reacted_posts": REACTED_POSTS_SQL.format(
        hidden=HIDDEN, after="", direction="DESC"
    ),
    "posts": (
        "SELECT p.id, p.author_id, u.username, p.body, p.created_at FROM posts p"
        " JOIN users u ON u.id = p.author_id WHERE p.author_id = %s"
        f" AND p.author_id NOT IN ({HIDDEN})"
        " ORDER BY p.created_at DESC, p.id DESC LIMIT %s"
    ),
    "users": (
        "SELECT u.id, u.username, u.tagline, p.user_id, p.display_name, p.bio,"
        " p.avatar_url, p.banner_url, p.theme_color, p.profile_music_url,"
        " p.profile_music_provider, p.location,"
        " (SELECT json_agg(json_build_object('badge', d.badge, 'label', d.label,"
        " 'icon_url_16', d.icon_url_16) ORDER BY g.id) FROM badge_grants g"
        " JOIN badge_definitions d ON d.badge = g.badge"
        " WHERE g.user_id = u.id AND d.is_tag_badge)"
        " FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id"
        f" WHERE u.is_active AND u.id NOT IN ({HIDDEN})"
        " ORDER BY u.username, u.id LIMIT %s"
    ),
    "highlights": (
        "SELECT h.position, p.id, p.author_id, a.username, p.body, p.created_at,"
        " h.created_at FROM user_highlights h"
        " JOIN users u ON u.id = h.user_id AND u.is_active"
        " JOIN posts p ON p.id = h.post_id JOIN users a ON a.id = p.author_id"
        f" WHERE h.user_id = %s AND h.user_id NOT IN ({HIDDEN})"
        f" AND p.author_id NOT IN ({HIDDEN}) ORDER BY h.position"
    ),
    "stats": (
        f"SELECT 1 FROM users WHERE id = %s AND is_active AND id NOT IN ({HIDDEN})"
    ),
    "room_messages": (
        "SELECT m.id, m.room_id, m.user_id, m.message, m.media_url, m.created_at"
        " FROM chat_room_messages m WHERE m.room_id = %s AND EXISTS (SELECT 1"
        " FROM chat_room_members r WHERE r.room_id = m.room_id AND r.user_id = %s"
        f" AND NOT r.is_banned) AND m.user_id NOT IN ({HIDDEN})"
        " ORDER BY m.created_at DESC, m.id DESC LIMIT %s"
    ),
    "private_messages": (
        "SELECT id, sender_id, recipient_id, message, media_url, created_at"
        " FROM private_messages WHERE (sender_id = %s AND recipient_id = %s)"
        " OR (sender_id = %s AND recipient_id = %s)"
        " ORDER BY created_at DESC, id DESC LIMIT %s"
    ),
    "conversation_messages": (
        "SELECT id, conversation_id, role, content, tool_calls, created_at"
        " FROM messages WHERE conversation_id = %s AND user_id = %s"
        " ORDER BY created_at, id LIMIT %s"
    ),
    "tasks": (
        "SELECT id, title, description, completed, created_at, updated_at"
        " FROM tasks WHERE user_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
    ),
    "stories": (
        "SELECT id, user_id, title, content, visibility, tags_cached, created_at,"
        " updated_at FROM stories WHERE visibility = 'public'"
        " AND tags_cached @> ARRAY[%s]::varchar[]"
        f" AND user_id NOT IN ({HIDDEN}) ORDER BY created_at DESC, id DESC LIMIT %s"
    ),
    "matches": (
        "SELECT m.id, m.user_id, m.target_user_id, u.username, m.score,"
        " m.created_at FROM match_results m JOIN users u ON u.id = m.target_user_id"
        " WHERE m.user_id = %s AND m.created_at = (SELECT max(created_at)"
        " FROM match_results WHERE user_id = %s)"
        f" AND m.target_user_id NOT IN ({HIDDEN}) ORDER BY m.score DESC, m.id DESC"
    ),
    "members": (
        f"SELECT id, {', '.join(MEMBER)} FROM community_members"
        " WHERE status = %s AND deleted_at IS NULL"
        " ORDER BY reputation_score DESC, id DESC LIMIT %s"
    ),
    "participation": (
        "SELECT id, member_id, event_type, platform, room_id, event_metadata,"
        " occurred_at FROM member_participation WHERE member_id = %s"
        " AND occurred_at >= %s AND occurred_at < %s"
        " ORDER BY occurred_at DESC, id DESC LIMIT %s"
    ),
}
UUID = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"

_db = None
_redis = None
_tokens: dict[str, uuid.UUID] = {}


def db() -> psycopg.Connection:
    global _db
    if _db is None or _db.closed:
        _db = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    return _db


def cache() -> redis.Redis:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _redis


def rows(sql: str, params) -> list[tuple]:
    with db().cursor() as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


def authenticated(environ) -> uuid.UUID | None:
    """The id of the token's user, if it is active."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    key = header.removeprefix("Token ")
    if key in _tokens:
        return _tokens[key]
    found = rows(
        "SELECT u.id FROM authtoken_token t JOIN users u ON u.id = t.user_id "
        "WHERE t.key = %s AND u.is_active",
        [key],
    )
    if found:
        _tokens[key] = found[0][0]
    return found[0][0] if found else None


def _tagged(value):
    if isinstance(value, datetime.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    return value


def _cursor(position, ordering) -> str:
    body = orjson.dumps({"p": [_tagged(v) for v in position], "r": 0, "o": ordering})
    return base64.urlsafe_b64encode(body).decode()


def page(environ, results, last, ordering, query) -> dict:
    """A first page's body: ``next`` as the project links it."""
    next_link = None
    if last is not None:
        params = {**query, "cursor": [_cursor(last, ordering)]}
        base = f"http://{environ['HTTP_HOST']}{environ['PATH_INFO']}"
        next_link = f"{base}?{urlencode(sorted(params.items()), doseq=True)}"
    return {"next": next_link, "previous": None, "results": results}


def post(row) -> dict:
    post_id, author_id, username, body, created_at = row
    return {
        "id": post_id,
        "author": {"id": author_id, "username": username},
        "body": body,
        "created_at": created_at,
    }


def reacted_posts(environ, query, me, user_id):
    params = [user_id, user_id, me, me, 8192, me, me, PAGE + 1]
    found = rows(SQL["reacted_posts"], params)
    results = [
        {**post((p, a, u, b, c)), "reacted_at": r} for p, b, c, a, u, r, _ in found
    ]
    last = (found[PAGE - 1][5], found[PAGE - 1][6]) if len(found) > PAGE else None
    return page(environ, results[:PAGE], last, ["-reacted_at", "-reaction_id"], query)


def posts(environ, query, me):
    author = query["author_id"][0]
    found = rows(SQL["posts"], [author, me, me, PAGE + 1])
    last = (found[PAGE - 1][4], found[PAGE - 1][0]) if len(found) > PAGE else None
    results = [post(row) for row in found[:PAGE]]
    return page(environ, results, last, ["-created_at", "-id"], query)


PROFILE = (
    "display_name",
    "bio",
    "avatar_url",
    "banner_url",
    "theme_color",
    "profile_music_url",
    "profile_music_provider",
    "location",
)


def users(environ, query, me):
    found = rows(SQL["users"], [me, me, PAGE + 1])
    results = [
        {
            "id": row[0],
            "username": row[1],
            "tagline": row[2],
            "profile": None
            if row[3] is None
            else dict(zip(PROFILE, row[4:12], strict=True)),
            "tag_badges": row[12] or [],
        }
        for row in found[:PAGE]
    ]
    last = (found[PAGE - 1][1], found[PAGE - 1][0]) if len(found) > PAGE else None
    return page(environ, results, last, ["username", "id"], query)


def highlights(environ, query, me, user_id):
    found = rows(SQL["highlights"], [user_id, me, me, me, me])
    return [
        {"position": row[0], "post": post(row[1:6]), "created_at": row[6]}
        for row in found
    ]


def stats(environ, query, me, user_id):
    if not rows(SQL["stats"], [user_id, me, me]):
        return None
    cached = cache().get(f"{os.environ['CACHE_KEY_PREFIX']}:1:profiles:stats:{user_id}")
    return None if cached is None else pickle.loads(cached)  # noqa: S301 (our own)


def keyset(environ, query, found, ordering: list[str], key) -> dict:
    """A first page of ``found`` (up to ``PAGE + 1`` rows, ``key(row)`` its
    position in ``ordering``), each row as a dict of its columns."""
    last = key(found[PAGE - 1]) if len(found) > PAGE else None
    return page(environ, found[:PAGE], last, ordering, query)


def as_dicts(sql: str, params, names) -> list[dict]:
    return [dict(zip(names, row, strict=True)) for row in rows(sql, params)]


MESSAGE = ("id", "room_id", "user_id", "message", "media_url", "created_at")
PRIVATE = ("id", "sender_id", "recipient_id", "message", "media_url", "created_at")
NEWEST = ["-created_at", "-id"]


def room_messages(environ, query, me, room_id):
    params = [int(room_id), me, me, me, PAGE + 1]
    found = as_dicts(SQL["room_messages"], params, MESSAGE)
    return keyset(environ, query, found, NEWEST, lambda r: (r["created_at"], r["id"]))


def private_messages(environ, query, me):
    other = uuid.UUID(query["with_user_id"][0])
    params = [me, other, other, me, PAGE + 1]
    found = as_dicts(SQL["private_messages"], params, PRIVATE)
    return keyset(environ, query, found, NEWEST, lambda r: (r["created_at"], r["id"]))


def conversation_messages(environ, query, me, conversation_id):
    names = ("id", "conversation_id", "role", "content", "tool_calls", "created_at")
    params = [conversation_id, me, PAGE + 1]
    found = as_dicts(SQL["conversation_messages"], params, names)
    ordering = ["created_at", "id"]
    return keyset(environ, query, found, ordering, lambda r: (r["created_at"], r["id"]))


def tasks(environ, query, me):
    names = ("id", "title", "description", "completed", "created_at", "updated_at")
    found = as_dicts(SQL["tasks"], [me, PAGE + 1], names)
    return keyset(environ, query, found, NEWEST, lambda r: (r["created_at"], r["id"]))


def stories(environ, query, me):
    names = ("id", "user_id", "title", "content", "visibility", "tags")
    names += ("created_at", "updated_at")
    found = as_dicts(SQL["stories"], [query["tag"][0], me, me, PAGE + 1], names)
    return keyset(environ, query, found, NEWEST, lambda r: (r["created_at"], r["id"]))


def matches(environ, query, me):
    return [
        {
            "id": match_id,
            "user_id": user_id,
            "target_user_id": target,
            "target_user": {"id": target, "username": username},
            "score": score,
            "created_at": created_at,
        }
        for match_id, user_id, target, username, score, created_at in rows(
            SQL["matches"], [me, me, me, me]
        )
    ]


def members(environ, query, me):
    found = rows(SQL["members"], [query["status"][0], PAGE + 1])
    results = [dict(zip(MEMBER, row[1:], strict=True)) for row in found]
    last = (found[PAGE - 1][13], found[PAGE - 1][0]) if len(found) > PAGE else None
    ordering = ["-reputation_score", "-id"]
    return page(environ, results[:PAGE], last, ordering, query)


def participation(environ, query, me):
    names = ("id", "member_id", "event_type", "platform", "room_id")
    names += ("event_metadata", "occurred_at")
    after, before = query["occurred_after"][0], query["occurred_before"][0]
    params = [query["member_id"][0], after, before, PAGE + 1]
    found = as_dicts(SQL["participation"], params, names)
    ordering = ["-occurred_at", "-id"]
    return keyset(
        environ, query, found, ordering, lambda r: (r["occurred_at"], r["id"])
    )


ROUTES = [
    (re.compile(rf"^/api/profiles/users/{UUID}/reacted-posts/$"), reacted_posts),
    (re.compile(r"^/api/profiles/posts/$"), posts),
    (re.compile(r"^/api/profiles/users/$"), users),
    (re.compile(rf"^/api/profiles/users/{UUID}/highlights/$"), highlights),
    (re.compile(rf"^/api/profiles/users/{UUID}/stats/$"), stats),
    (re.compile(r"^/api/safety/chat-rooms/(\d+)/messages/$"), room_messages),
    (re.compile(r"^/api/safety/private-messages/$"), private_messages),
    (
        re.compile(rf"^/api/chatbot/conversations/{UUID}/messages/$"),
        conversation_messages,
    ),
    (re.compile(r"^/api/chatbot/tasks/$"), tasks),
    (re.compile(r"^/api/wellness/stories/$"), stories),
    (re.compile(r"^/api/wellness/match-results/$"), matches),
    (re.compile(r"^/api/community/community-members/$"), members),
    (re.compile(r"^/api/community/member-participation/$"), participation),
]


# --- writes -------------------------------------------------------------------------


class Refused(Exception):
    """An answer other than the write's success: its status and body."""

    def __init__(self, status: int, body):
        super().__init__(status, body)
        self.status, self.body = status, body


def invalid(field: str, message: str) -> Refused:
    return Refused(400, {field: [message]})


_permissions: dict[tuple, bool] = {}


def permitted(me: uuid.UUID, app_label: str, codename: str) -> None:
    """Refuse unless ``me`` has the model permission (their own or a group's),
    as the project's ModelPermissions does; looked up once per process."""
    key = (me, app_label, codename)
    if key not in _permissions:
        (found,) = rows(
            "SELECT u.is_superuser OR EXISTS (SELECT 1 FROM auth_permission p"
            " JOIN django_content_type c ON c.id = p.content_type_id"
            " WHERE c.app_label = %s AND p.codename = %s AND (p.id IN (SELECT"
            " permission_id FROM users_user_permissions WHERE user_id = u.id)"
            " OR p.id IN (SELECT g.permission_id FROM auth_group_permissions g"
            " JOIN users_groups ug ON ug.group_id = g.group_id"
            " WHERE ug.user_id = u.id))) FROM users u WHERE u.id = %s",
            [app_label, codename, me],
        )
        _permissions[key] = found[0]
    if not _permissions[key]:
        raise Refused(403, {"detail": "You do not have permission."})


def text(data: dict, field: str, max_length: int, required: bool = True):
    value = data.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, "This field is required.")
    if len(value) > max_length:
        raise invalid(field, f"At most {max_length} characters.")
    return value.strip()


def one(sql: str, params):
    found = rows(sql, params)
    return found[0] if found else None


def highlights_order(environ, data, me):
    post_ids = data.get("post_ids")
    if (
        not isinstance(post_ids, list)
        or len(post_ids) > 128
        or not all(type(p) is int and 1 <= p < 2**63 for p in post_ids)
    ):
        raise invalid("post_ids", "A list of at most 128 post ids.")
    with db().transaction():
        current = rows(
            "SELECT h.id, h.post_id, h.position FROM users u"
            " LEFT JOIN user_highlights h ON h.user_id = u.id WHERE u.id = %s"
            " FOR NO KEY UPDATE OF u",
            [me],
        )
        by_post = {post: (pk, position) for pk, post, position in current if pk}
        if len(set(post_ids)) != len(post_ids) or set(post_ids) != set(by_post):
            raise invalid("post_ids", "Send every highlighted post exactly once.")
        moved = {
            by_post[post][0]: index
            for index, post in enumerate(post_ids)
            if by_post[post][1] != index
        }
        if moved:
            above = max(position for _, position in by_post.values()) + 1
            rows(
                "UPDATE user_highlights SET position = position + %s"
                " WHERE id = ANY(%s) RETURNING 1",
                [above, list(moved)],
            )
            rows(
                "UPDATE user_highlights h SET position = v.position"
                " FROM unnest(%s::bigint[], %s::int[]) AS v(id, position)"
                " WHERE h.id = v.id RETURNING 1",
                [list(moved), list(moved.values())],
            )
        return 200, highlights(environ, {}, me, me)


INVITATION = (
    "invitation_id",
    "invitation_code",
    "created_by",
    "invited_telegram_username",
    "status",
    "expires_at",
    "accepted_by",
    "accepted_at",
    "created_at",
    "updated_at",
)


def invitation_accept(environ, data, me):
    permitted(me, "community", "change_communityinvitation")
    code = text(data, "invitation_code", 32).upper()
    telegram_id = text(data, "telegram_id", 255)
    if not re.fullmatch(r"[0-9]{1,20}", telegram_id):
        raise invalid("telegram_id", "A Telegram id is a number of at most 20 digits.")
    username = text(data, "telegram_username", 255, required=False)
    username = username.removeprefix("@") or None if username else None
    with db().transaction():
        found = one(
            "SELECT invitation_id, created_by, invited_telegram_username, status,"
            " expires_at <= statement_timestamp() FROM community_invitations"
            " WHERE invitation_code = %s FOR UPDATE",
            [code],
        )
        if found is None:
            raise invalid("invitation_code", "No invitation has this code.")
        invitation_id, inviter, invited, status, expired = found
        if status in ("accepted", "revoked"):
            raise invalid("invitation_code", f"This invitation is {status}.")
        if status == "expired" or expired:
            raise invalid("invitation_code", "This invitation has expired.")
        if invited and (username or "").lower() != invited.lower():
            raise invalid("telegram_username", f"This invitation is for @{invited}.")
        member = one(
            "SELECT id, status, deleted_at IS NOT NULL FROM community_members"
            " WHERE telegram_id = %s FOR UPDATE",
            [telegram_id],
        )
        if member is None:
            name = text(data, "name", 255)
            role = text(data, "primary_role", 50)
            (member_id,) = one(
                "WITH number AS (INSERT INTO community_member_id_sequence"
                " (id, last_value) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET"
                " last_value = community_member_id_sequence.last_value + 1"
                " RETURNING last_value) INSERT INTO community_members (member_id,"
                " telegram_id, telegram_username, name, primary_role, status,"
                " invited_by) SELECT '#' || last_value, %s, %s, %s, %s, 'member', %s"
                " FROM number RETURNING member_id",
                [telegram_id, username, name, role, inviter],
            )
        else:
            if member[2]:
                raise invalid("telegram_id", "This Telegram user's member is deleted.")
            if member[1] != "not_member":
                raise invalid("telegram_id", "Already in the community.")
            (member_id,) = one(
                "UPDATE community_members SET status = 'member', invited_by = %s,"
                " telegram_username = coalesce(%s, telegram_username),"
                " updated_at = statement_timestamp() WHERE id = %s RETURNING member_id",
                [inviter, username, member[0]],
            )
        accepted = one(
            "WITH accepted AS (UPDATE community_invitations SET status = 'accepted',"
            " accepted_by = %s, accepted_at = statement_timestamp(),"
            " updated_at = statement_timestamp() WHERE invitation_id = %s"
            f" RETURNING {', '.join(INVITATION)}), related AS (INSERT INTO"
            " member_relationships (entity_id_a, entity_id_b, relationship_type,"
            " content) SELECT created_by, accepted_by, 'INVITED', jsonb_build_object("
            "'invitation_id', invitation_id::text, 'invitation_code',"
            " invitation_code) FROM accepted) SELECT * FROM accepted",
            [member_id, invitation_id],
        )
    return 200, dict(zip(INVITATION, accepted, strict=True))


MEDIA = re.compile(
    r"^https?://[^/?#]+[^?#]*\.(png|jpe?g|gif|webp|heic|avif|mp3|m4a|aac|ogg|oga"
    r"|opus|wav|flac)([?#].*)?$",
    re.I,
)


def room_message_post(environ, data, me, room_id):
    message = text(data, "message", 4000)
    media_url = data.get("media_url") or None
    if media_url is not None and not (
        isinstance(media_url, str) and len(media_url) <= 2000 and MEDIA.match(media_url)
    ):
        raise invalid("media_url", "An http(s) URL of an image or audio file.")
    with db().transaction():
        found = one(
            "SELECT r.is_public, m.id IS NOT NULL, m.is_banned, (SELECT max(CASE"
            " WHEN a.duration_minutes IS NULL THEN 'infinity'::timestamptz"
            " ELSE a.created_at + a.duration_minutes * interval '1 minute' END)"
            " FROM moderation_actions a WHERE a.target_user_id = %s"
            " AND a.action_type = 'mute') > statement_timestamp()"
            " FROM chat_rooms r LEFT JOIN chat_room_members m ON m.room_id = r.id"
            " AND m.user_id = %s WHERE r.id = %s",
            [me, me, int(room_id)],
        )
        if found is None or not (found[0] or (found[1] and not found[2])):
            raise Refused(404, {"detail": "No ChatRoom matches the given query."})
        if not found[1]:
            raise Refused(403, {"detail": "Join the room to read and post."})
        if found[2]:
            raise Refused(403, {"detail": "You are banned from this room."})
        if found[3]:
            raise Refused(403, {"detail": "You are muted."})
        posted = as_dicts(
            "WITH posted AS (INSERT INTO chat_room_messages (room_id, user_id,"
            " message, media_url) VALUES (%s, %s, %s, %s)"
            f" RETURNING {', '.join(MESSAGE)}), seen AS (UPDATE chat_room_members"
            " SET last_seen_at = (SELECT created_at FROM posted)"
            " WHERE room_id = %s AND user_id = %s) SELECT * FROM posted",
            [int(room_id), me, message, media_url, int(room_id), me],
            MESSAGE,
        )[0]
    event = {"type": "room.message", "room_id": posted["room_id"], "message": posted}
    cache().publish(f"room.{room_id}", orjson.dumps(event, option=OPTIONS))
    return 201, posted


EVENT_TYPES = ("MESSAGE", "REACTION", "VOICE")
PLATFORMS = ("telegram", "discord")
EVENT = ("id", "member_id", "event_type", "platform", "room_id")
EVENT += ("event_metadata", "occurred_at")
FUTURE_SKEW = datetime.timedelta(minutes=5)


def event_errors(event, now) -> dict:
    """What is wrong with one event, by field (the project's checks)."""
    if not isinstance(event, dict):
        return {"non_field_errors": ["Expected an object."]}
    errors = {}
    for field, max_length in (("member_id", 20), ("room_id", 255)):
        value = event.get(field)
        if not isinstance(value, str) or not value or len(value) > max_length:
            errors[field] = [f"A string of at most {max_length} characters."]
    if event.get("event_type") not in EVENT_TYPES:
        errors["event_type"] = ["Not a valid choice."]
    if event.get("platform") not in PLATFORMS:
        errors["platform"] = ["Not a valid choice."]
    metadata = event.get("event_metadata")
    if metadata is not None and not isinstance(metadata, dict):
        errors["event_metadata"] = ["Expected a JSON object."]
    when = event.get("occurred_at")
    if when is not None:
        try:
            when = datetime.datetime.fromisoformat(when)
        except (TypeError, ValueError):
            errors["occurred_at"] = ["Not an ISO 8601 time."]
        else:
            if when.tzinfo is None:
                when = when.replace(tzinfo=datetime.UTC)
            if when > now + FUTURE_SKEW:
                errors["occurred_at"] = ["Must not be in the future."]
            event["occurred_at"] = when
    if event.get("event_type") == "VOICE":
        minutes = metadata.get("minutes") if isinstance(metadata, dict) else None
        if type(minutes) is not int or not 0 <= minutes <= 24 * 60:
            errors["event_metadata"] = ['A VOICE event needs "minutes".']
    return errors


def participation_batch(environ, data, me):
    permitted(me, "community", "add_memberparticipation")
    events = data.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= 1000:
        raise invalid("events", "From 1 to 1000 events.")
    now = datetime.datetime.now(datetime.UTC)
    errors = [event_errors(event, now) for event in events]
    if any(errors):
        raise Refused(400, {"events": errors})
    with db().transaction():
        named = list({event["member_id"] for event in events})
        live = {
            member_id
            for (member_id,) in rows(
                "SELECT member_id FROM community_members WHERE member_id = ANY(%s)"
                " AND deleted_at IS NULL",
                [named],
            )
        }
        errors = [
            {} if e["member_id"] in live else {"member_id": ["No such member."]}
            for e in events
        ]
        if any(errors):
            raise Refused(400, {"events": errors})
        columns = [[e.get(name) for e in events] for name in EVENT[1:5]]
        metadata = [
            None if e.get("event_metadata") is None else Jsonb(e["event_metadata"])
            for e in events
        ]
        times = [e.get("occurred_at") or now for e in events]
        inserted = as_dicts(
            "INSERT INTO member_participation (member_id, event_type, platform,"
            " room_id, event_metadata, occurred_at) SELECT m, e, p, r, d, t FROM"
            " unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::jsonb[],"
            " %s::timestamptz[]) WITH ORDINALITY AS v(m, e, p, r, d, t, n)"
            f" ORDER BY n RETURNING {', '.join(EVENT)}",
            [*columns, metadata, times],
            EVENT,
        )
        latest: dict[str, datetime.datetime] = {}
        for member_id, when in zip(columns[0], times, strict=True):
            latest[member_id] = max(when, latest.get(member_id, when))
        rows(
            "UPDATE community_members m SET last_active_at = greatest("
            "coalesce(m.last_active_at, v.t), v.t) FROM unnest(%s::text[],"
            " %s::timestamptz[]) AS v(member_id, t) WHERE m.member_id = v.member_id"
            " RETURNING 1",
            [list(latest), list(latest.values())],
        )
    return 201, {"events": inserted}


WRITES = [
    (
        "PUT",
        re.compile(r"^/api/profiles/me/highlights/order/$"),
        highlights_order,
    ),
    (
        "POST",
        re.compile(r"^/api/community/community-invitations/accept/$"),
        invitation_accept,
    ),
    (
        "POST",
        re.compile(r"^/api/safety/chat-rooms/(\d+)/messages/$"),
        room_message_post,
    ),
    (
        "POST",
        re.compile(r"^/api/community/member-participation/batch/$"),
        participation_batch,
    ),
]
STATUS = {200: "200 OK", 201: "201 Created", 400: "400 Bad Request"}
STATUS |= {403: "403 Forbidden", 404: "404 Not Found"}


def respond(start_response, status: int, body) -> list[bytes]:
    start_response(STATUS[status], [("Content-Type", "application/json")])
    return [orjson.dumps(body, option=OPTIONS)]


def write(environ, start_response, me):
    for method, pattern, view in WRITES:
        match = pattern.match(environ["PATH_INFO"])
        if match and environ["REQUEST_METHOD"] == method:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                data = orjson.loads(environ["wsgi.input"].read(size))
                if not isinstance(data, dict):
                    raise invalid("non_field_errors", "Expected a JSON object.")
                return respond(
                    start_response, *view(environ, data, me, *match.groups())
                )
            except orjson.JSONDecodeError:
                return respond(start_response, 400, {"detail": "JSON parse error."})
            except Refused as refused:
                return respond(start_response, refused.status, refused.body)
    return respond(start_response, 404, {"status": 404})


def app(environ, start_response):
    me = authenticated(environ)
    if me is None:
        start_response("401 Unauthorized", [("Content-Type", "application/json")])
        return [b'{"status":401}']
    if environ["REQUEST_METHOD"] != "GET":
        return write(environ, start_response, me)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    for pattern, view in ROUTES:
        match = pattern.match(environ["PATH_INFO"])
        if match:
            body = view(environ, query, me, *match.groups())
            if body is not None:
                start_response("200 OK", [("Content-Type", "application/json")])
                return [orjson.dumps(body, option=OPTIONS)]
    start_response("404 Not Found", [("Content-Type", "application/json")])
    return [b'{"status":404}']
