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
}
UUID = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"

_db = None
_redis = None
_tokens: set[str] = set()


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


def authenticated(environ) -> bool:
    header = environ.get("HTTP_AUTHORIZATION", "")
    key = header.removeprefix("Token ")
    if key in _tokens:
        return True
    found = rows(
        "SELECT 1 FROM authtoken_token t JOIN users u ON u.id = t.user_id "
        "WHERE t.key = %s AND u.is_active",
        [key],
    )
    if found:
        _tokens.add(key)
    return bool(found)


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


def reacted_posts(environ, query, user_id):
    found = rows(SQL["reacted_posts"], [user_id, user_id, 8192, PAGE + 1])
    results = [
        {**post((p, a, u, b, c)), "reacted_at": r} for p, b, c, a, u, r, _ in found
    ]
    last = (found[PAGE - 1][5], found[PAGE - 1][6]) if len(found) > PAGE else None
    return page(environ, results[:PAGE], last, ["-reacted_at", "-reaction_id"], query)


def posts(environ, query):
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


def users(environ, query):
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


def highlights(environ, query, user_id):
    found = rows(SQL["highlights"], [user_id])
    return [
        {"position": row[0], "post": post(row[1:6]), "created_at": row[6]}
        for row in found
    ]


def stats(environ, query, user_id):
    if not rows(SQL["stats"], [user_id]):
        return None
    cached = cache().get(f"{os.environ['CACHE_KEY_PREFIX']}:1:profiles:stats:{user_id}")
    return None if cached is None else pickle.loads(cached)  # noqa: S301 (our own)


ROUTES = [
    (re.compile(rf"^/api/profiles/users/{UUID}/reacted-posts/$"), reacted_posts),
    (re.compile(r"^/api/profiles/posts/$"), posts),
    (re.compile(r"^/api/profiles/users/$"), users),
    (re.compile(rf"^/api/profiles/users/{UUID}/highlights/$"), highlights),
    (re.compile(rf"^/api/profiles/users/{UUID}/stats/$"), stats),
]


def app(environ, start_response):
    if not authenticated(environ):
        start_response("401 Unauthorized", [("Content-Type", "application/json")])
        return [b'{"status":401}']
    query = parse_qs(environ.get("QUERY_STRING", ""))
    for pattern, view in ROUTES:
        match = pattern.match(environ["PATH_INFO"])
        if match:
            body = view(environ, query, *match.groups())
            if body is not None:
                start_response("200 OK", [("Content-Type", "application/json")])
                return [orjson.dumps(body, option=OPTIONS)]
    start_response("404 Not Found", [("Content-Type", "application/json")])
    return [b'{"status":404}']
