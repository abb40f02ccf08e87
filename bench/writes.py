"""The hot writes of bench/run.py: the rows they write to, their requests for
wrk (bench/writes.lua), the check that each one landed, and the clean-up.

The writes touch only rows made for them, which are deleted afterwards, so
the reads' data stays as it was and a second bench/run measures the same
reads:

- 64 users ``bench-writer-NN``, each with a token, 128 posts and 128
  highlights of them, and a membership of one of 8 rooms of their own (8 to
  a room: the rooms hold at most 10);
- community members whose Telegram id has 15 digits starting with 99: the
  inviter, the ingest's 640 members (32 groups of 20, one group a batch),
  and whoever accepts the inviter's invitations; with their invitations,
  relationships and participation events.

What a wrk run adds (accepted invitations and their members, room messages,
events) is deleted after it and the highlights are put back in their first
order, so every run of a write starts from the same rows. ``cleanup`` drops
the bench rows at the end, and at the start any that a run which died left.

    from bench.writes import Writes
    writes = Writes(database_url, env)  # makes the bench rows
    ...
    writes.cleanup()
"""

import json
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
LUA = str(ROOT / "bench" / "writes.lua")
WRITERS = 64  # users, each reordering their own highlights and posting
HIGHLIGHTS = 128  # each (profiles.models.MAX_HIGHLIGHTS)
ROOM_SIZE = 8
GROUPS, GROUP_SIZE, EVENTS = 32, 20, 1000  # the ingest's members and batches
# community.services.INVITATION_ALPHABET: the codes bench/writes.lua makes.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RATE = 1500  # invitations made per wrk thread and second of a run: spare
BENCH_MEMBERS = "telegram_id LIKE '99%' AND length(telegram_id) = 15"
BENCH_USERS = "username LIKE 'bench-writer-%'"


def encode(value: int, width: int) -> str:
    """``value`` in base 31 over the invitation alphabet, ``width`` symbols."""
    out = ""
    for _ in range(width):
        value, digit = divmod(value, 31)
        out = ALPHABET[digit] + out
    return out


def invitation_code(tag: int, thread: int, n: int) -> str:
    """The ``n``-th code (from 1) of wrk thread ``thread`` in run ``tag``:
    16 symbols of the alphabet, as bench/writes.lua makes them."""
    return f"BENCH{encode(tag, 2)}{encode(thread, 1)}{encode(n, 8)}"


def telegram_id(tag: int, thread: int, n: int) -> str:
    return f"99{tag:04d}{thread}{n:08d}"


SETUP = f"""
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from rest_framework.authtoken.models import Token
from community.models import CommunityMember, MemberStatus
from community.services import member_ids_next
from profiles.models import Post, UserHighlight
from safety.models import ChatRoom, ChatRoomMember, Role
User = get_user_model()
with transaction.atomic():
    users = User.objects.bulk_create(
        User(username=f"bench-writer-{{i:02d}}", password=make_password(None),
             email=f"bench-writer-{{i}}@bench.invalid")
        for i in range({WRITERS}))
    tokens = Token.objects.bulk_create(Token(user=u, key=Token.generate_key())
                                       for u in users)
    posts = Post.objects.bulk_create(Post(author=u, body=f"bench post {{k}}")
                                     for u in users for k in range({HIGHLIGHTS}))
    UserHighlight.objects.bulk_create(
        UserHighlight(user_id=p.author_id, post=p, position=n % {HIGHLIGHTS})
        for n, p in enumerate(posts))
    rooms = ChatRoom.objects.bulk_create(
        ChatRoom(owner=users[r], room_name=f"bench room {{r}}", is_public=False)
        for r in range(0, {WRITERS}, {ROOM_SIZE}))
    ChatRoomMember.objects.bulk_create(
        ChatRoomMember(room=rooms[i // {ROOM_SIZE}], user=u,
                       role=Role.OWNER if i % {ROOM_SIZE} == 0 else Role.USER)
        for i, u in enumerate(users))
    count = 1 + {GROUPS * GROUP_SIZE}
    members = CommunityMember.objects.bulk_create(
        CommunityMember(member_id=member_id, telegram_id=f"99{{0:04d}}0{{i:08d}}",
                        name=f"Bench Member {{i}}", primary_role="developer",
                        status=MemberStatus.MEMBER)
        for i, member_id in enumerate(member_ids_next(count)))
print(json.dumps({{
    "writers": [
        {{"token": t.key, "room": rooms[i // {ROOM_SIZE}].pk,
          "posts": [p.pk for p in posts[i * {HIGHLIGHTS}:(i + 1) * {HIGHLIGHTS}]]}}
        for i, t in enumerate(tokens)],
    "users": [str(u.pk) for u in users],
    "rooms": [r.pk for r in rooms],
    "inviter": members[0].member_id,
    "members": [m.member_id for m in members[1:]],
}}))
"""


class Writes:
    """The bench rows of one run, and each write's requests and checks."""

    def __init__(self, database_url: str, env: dict, bot_token: str):
        self.db = psycopg.connect(database_url, autocommit=True)
        self.bot = bot_token
        self.tag = 0
        self.files: dict[str, str] = {}
        self.folder = None
        self.cleanup()  # what a run that died left
        self.folder = tempfile.mkdtemp(prefix="bench-writes-")
        out = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SETUP],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        self.rows = json.loads(out.strip().splitlines()[-1])
        self.lines = {
            "highlight reorder of 128": self.reorders(),
            "accepting an invitation": self.acceptances(),
            "posting a room message": self.room_messages(),
            "bulk ingest of 1 000 events": self.batches(),
        }

    def sql(self, statement: str, params=()) -> list[tuple]:
        with self.db.cursor() as cursor:
            cursor.execute(statement, params or None)
            return cursor.fetchall() if cursor.description else []

    # --- each write's requests: (method, path, token, body) -------------------------

    def reorders(self) -> list[tuple]:
        """Each writer's highlights reversed, then back in their first order:
        every row moves in every request. Writer i's two requests are lines i
        and WRITERS + i, so a wrk thread sends each of its writers' in turn."""
        path = "/api/profiles/me/highlights/order/"
        return [
            ("PUT", path, w["token"], {"post_ids": order(w["posts"])})
            for order in (lambda p: p[::-1], list)
            for w in self.rows["writers"]
        ]

    def acceptances(self) -> list[tuple]:
        body = {"invitation_code": "{code}", "telegram_id": "{telegram}"}
        body |= {"name": "Bench Joiner", "primary_role": "developer"}
        return [
            ("POST", "/api/community/community-invitations/accept/", self.bot, body)
        ]

    def room_messages(self) -> list[tuple]:
        return [
            (
                "POST",
                f"/api/safety/chat-rooms/{w['room']}/messages/",
                w["token"],
                {"message": "A bench message, short as most are."},
            )
            for w in self.rows["writers"]
        ]

    def batches(self) -> list[tuple]:
        """A batch per group of members: 1 000 events of the last hour, 50
        each, messages, reactions and voice minutes."""
        start = datetime.now(UTC) - timedelta(hours=1)
        members = self.rows["members"]
        lines = []
        for group in range(GROUPS):
            named = members[group * GROUP_SIZE : (group + 1) * GROUP_SIZE]
            events = []
            for n in range(EVENTS):
                event = {
                    "member_id": named[n % GROUP_SIZE],
                    "event_type": ("MESSAGE", "REACTION", "VOICE")[n % 3],
                    "platform": "telegram",
                    "room_id": "bench",
                    "occurred_at": (start + timedelta(seconds=n)).isoformat(),
                }
                if n % 3 == 2:
                    event["event_metadata"] = {"minutes": n % 60}
                events.append(event)
            path = "/api/community/member-participation/batch/"
            lines.append(("POST", path, self.bot, {"events": events}))
        return lines

    def script_file(self, name: str) -> str:
        """The write's requests as bench/writes.lua reads them."""
        if name not in self.files:
            path = Path(self.folder) / f"{len(self.files)}.tsv"
            path.write_text(
                "".join(
                    f"{method}\t{url}\t{token}\t{json.dumps(body)}\n"
                    for method, url, token, body in self.lines[name]
                )
            )
            self.files[name] = str(path)
        return self.files[name]

    # --- before and after each wrk run, and the check -------------------------------

    def prepare(self, name: str, threads: int, duration: float) -> tuple:
        """Make what the next run of ``name`` needs; the wrk script's
        arguments (bench/writes.lua)."""
        self.tag += 1
        if name == "accepting an invitation":
            count = max(1, int(RATE * duration))
            codes = [
                invitation_code(self.tag, thread, n)
                for thread in range(threads)
                for n in range(1, count + 1)
            ]
            self.sql(
                "INSERT INTO community_invitations (invitation_code, created_by,"
                " expires_at) SELECT unnest(%s::text[]), %s,"
                " statement_timestamp() + interval '1 day'",
                [codes, self.rows["inviter"]],
            )
        return (self.script_file(name), str(self.tag), str(threads))

    def first_request(self, name: str) -> tuple:
        """The first request of the run just prepared, as wrk thread 0 sends
        it (for the check before timing)."""
        method, path, token, body = self.lines[name][0]
        text = (
            json.dumps(body)
            .replace("{code}", invitation_code(self.tag, 0, 1))
            .replace("{telegram}", telegram_id(self.tag, 0, 1))
        )
        return method, path, token, json.loads(text)

    def landed(self, name: str, request: tuple, answer) -> str | None:
        """What is wrong in the database after ``request`` got ``answer``."""
        body = request[3]
        if name == "highlight reorder of 128":
            writer = next(w for w in self.rows["writers"] if w["token"] == request[2])
            (stored,) = self.sql(
                "SELECT array_agg(h.post_id ORDER BY h.position) FROM user_highlights h"
                " WHERE h.post_id = ANY(%s)",
                [writer["posts"]],
            )
            return None if stored[0] == body["post_ids"] else "highlights not in order"
        if name == "accepting an invitation":
            found = self.sql(
                "SELECT i.status, m.status, m.invited_by, m.telegram_id, (SELECT"
                " count(*) FROM member_relationships r WHERE r.entity_id_a ="
                " i.created_by AND r.entity_id_b = m.member_id AND"
                " r.relationship_type = 'INVITED') FROM community_invitations i"
                " JOIN community_members m ON m.member_id = i.accepted_by"
                " WHERE i.invitation_code = %s AND i.accepted_by = %s",
                [body["invitation_code"], answer["accepted_by"]],
            )
            wanted = (
                "accepted",
                "member",
                self.rows["inviter"],
                body["telegram_id"],
                1,
            )
            return None if found == [wanted] else f"acceptance stored as {found}"
        if name == "posting a room message":
            found = self.sql(
                "SELECT m.message, c.last_seen_at = m.created_at FROM"
                " chat_room_messages m JOIN chat_room_members c ON c.room_id ="
                " m.room_id AND c.user_id = m.user_id WHERE m.id = %s",
                [answer["id"]],
            )
            return None if found == [(body["message"], True)] else f"stored: {found}"
        ids = [event["id"] for event in answer["events"]]
        (count,) = self.sql(
            "SELECT count(*) FROM member_participation WHERE id = ANY(%s::uuid[])",
            [ids],
        )
        latest = {}
        for event in body["events"]:  # in time order
            latest[event["member_id"]] = event["occurred_at"]
        (active,) = self.sql(
            "SELECT count(*) FROM community_members m JOIN unnest(%s::text[],"
            " %s::timestamptz[]) AS v(member_id, t) ON v.member_id = m.member_id"
            " AND m.last_active_at = v.t",
            [list(latest), list(latest.values())],
        )
        if (count[0], active[0]) != (EVENTS, len(latest)):
            return f"{count[0]} events stored, {active[0]} members active"
        return None

    def tidy(self, name: str) -> None:
        """Undo what runs of ``name`` added: the next starts from the same rows."""
        if name == "highlight reorder of 128":
            users = self.rows["users"]
            self.sql(
                "UPDATE user_highlights SET position = position + %s"
                " WHERE user_id = ANY(%s::uuid[])",
                [HIGHLIGHTS, users],
            )
            self.sql(
                "UPDATE user_highlights h SET position = f.position FROM (SELECT id,"
                " row_number() OVER (PARTITION BY user_id ORDER BY post_id) - 1"
                " AS position FROM user_highlights WHERE user_id = ANY(%s::uuid[])) f"
                " WHERE h.id = f.id",
                [users],
            )
        elif name == "accepting an invitation":
            inviter = self.rows["inviter"]
            self.sql(
                "DELETE FROM member_relationships WHERE entity_id_a = %s", [inviter]
            )
            self.sql(
                "DELETE FROM community_invitations WHERE created_by = %s", [inviter]
            )
            self.sql("DELETE FROM community_members WHERE invited_by = %s", [inviter])
        elif name == "posting a room message":
            rooms = self.rows["rooms"]
            self.sql("DELETE FROM chat_room_messages WHERE room_id = ANY(%s)", [rooms])
            self.sql(
                "UPDATE chat_room_members SET last_seen_at = NULL"
                " WHERE room_id = ANY(%s)",
                [rooms],
            )
        else:
            members = self.rows["members"]
            self.sql(
                "DELETE FROM member_participation WHERE member_id = ANY(%s)", [members]
            )
            self.sql(
                "UPDATE community_members SET last_active_at = NULL"
                " WHERE member_id = ANY(%s)",
                [members],
            )

    def cleanup(self) -> None:
        """Delete every bench row (the users' rows go with them: posts,
        highlights, rooms and messages cascade), then VACUUM those tables."""
        members = f"SELECT member_id FROM community_members WHERE {BENCH_MEMBERS}"
        for statement in (
            f"DELETE FROM member_relationships WHERE entity_id_a IN ({members})"
            f" OR entity_id_b IN ({members})",
            f"DELETE FROM community_invitations WHERE created_by IN ({members})"
            f" OR accepted_by IN ({members})",
            f"DELETE FROM member_participation WHERE member_id IN ({members})",
            f"DELETE FROM member_daily_highlights WHERE member_id IN ({members})",
            f"DELETE FROM community_members WHERE {BENCH_MEMBERS}",
            "DELETE FROM authtoken_token WHERE user_id IN"
            f" (SELECT id FROM users WHERE {BENCH_USERS})",
            f"DELETE FROM users WHERE {BENCH_USERS}",
        ):
            self.sql(statement)
        for table in TOUCHED:
            self.sql(f"VACUUM {table}")
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.files.clear()


TOUCHED = (
    "users",
    "posts",
    "user_highlights",
    "chat_rooms",
    "chat_room_members",
    "chat_room_messages",
    "community_members",
    "community_invitations",
    "member_relationships",
    "member_participation",
)
