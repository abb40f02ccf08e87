"""The baseline: the benchmark's hot reads as a bare WSGI app on psycopg.

No framework: a regex per URL, the best SQL a person would write for the same
JSON (the lightning tab's is the project's own statement, which is already
that), orjson, one persistent connection per worker, and tokens checked once
per process. ``bench/run.py`` serves it with the same server and workers as
the project and checks that both answer the same bodies.

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
# The SQL of each read, also replayed alone by pgbench (bench/run.py).
SQL = {
    "reacted_posts": REACTED_POSTS_SQL.format(after="", direction="DESC"),
    "posts": (
        "SELECT p.id, p.author_id, u.username, p.body, p.created_at FROM posts p"
        " JOIN users u ON u.id = p.author_id WHERE p.author_id = %s"
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
        " WHERE u.is_active ORDER BY u.username, u.id LIMIT %s"
    ),
    "highlights": (
        "SELECT h.position, p.id, p.author_id, a.username, p.body, p.created_at,"
        " h.created_at FROM user_highlights h"
        " JOIN users u ON u.id = h.user_id AND u.is_active"
        " JOIN posts p ON p.id = h.post_id JOIN users a ON a.id = p.author_id"
        " WHERE h.user_id = %s ORDER BY h.position"
    ),
    "stats": "SELECT 1 FROM users WHERE id = %s AND is_active",
    "room_messages": (
        "SELECT m.id, m.room_id, m.user_id, m.message, m.media_url, m.created_at"
        " FROM chat_room_messages m WHERE m.room_id = %s AND EXISTS (SELECT 1"
        " FROM chat_room_members r WHERE r.room_id = m.room_id AND r.user_id = %s"
        " AND NOT r.is_banned) ORDER BY m.created_at DESC, m.id DESC LIMIT %s"
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
        " ORDER BY created_at DESC, id DESC LIMIT %s"
    ),
    "matches": (
        "SELECT m.id, m.user_id, m.target_user_id, u.username, m.score,"
        " m.created_at FROM match_results m JOIN users u ON u.id = m.target_user_id"
        " WHERE m.user_id = %s AND m.created_at = (SELECT max(created_at)"
        " FROM match_results WHERE user_id = %s) ORDER BY m.score DESC, m.id DESC"
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
    found = rows(SQL["reacted_posts"], [user_id, user_id, 8192, PAGE + 1])
    results = [
        {**post((p, a, u, b, c)), "reacted_at": r} for p, b, c, a, u, r, _ in found
    ]
    last = (found[PAGE - 1][5], found[PAGE - 1][6]) if len(found) > PAGE else None
    return page(environ, results[:PAGE], last, ["-reacted_at", "-reaction_id"], query)


def posts(environ, query, me):
    author = query["author_id"][0]
    found = rows(SQL["posts"], [author, PAGE + 1])
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
    found = rows(SQL["users"], [PAGE + 1])
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
    found = rows(SQL["highlights"], [user_id])
    return [
        {"position": row[0], "post": post(row[1:6]), "created_at": row[6]}
        for row in found
    ]


def stats(environ, query, me, user_id):
    if not rows(SQL["stats"], [user_id]):
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
    found = as_dicts(SQL["room_messages"], [int(room_id), me, PAGE + 1], MESSAGE)
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
    found = as_dicts(SQL["stories"], [query["tag"][0], PAGE + 1], names)
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
            SQL["matches"], [me, me]
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


def app(environ, start_response):
    me = authenticated(environ)
    if me is None:
        start_response("401 Unauthorized", [("Content-Type", "application/json")])
        return [b'{"status":401}']
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
