"""The block rule (docs/design.md#blocks): each of a blocked pair is hidden
from the other wherever the product shows a person or what they wrote, in
every app, as if they did not exist; a few reads keep them on purpose (one's
own messages, reports, blocks and highlights).

The walk goes over every GET of the OpenAPI schema: an endpoint added later
is covered with no change here, and one that shows the hidden user fails
until it hides them or is listed, with its reason, in ``KEPT``."""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from badges.models import BadgeDefinition
from badges.services import badge_grant
from profiles import services as profiles_services
from safety import services
from tests.conftest import token_client
from tests.helpers import assert_error, schema_paths
from tests.profiles.factories import PostFactory, UserFactory, UserProfileFactory
from tests.safety.factories import RoomFactory
from tests.wellness.factories import StoryFactory
from wellness import services as wellness_services
from wellness.models import MatchResult

pytestmark = pytest.mark.django_db

# Reads that show the hidden user after the block, on purpose.
KEPT = {
    # Your own history with them stays yours (evidence for a report).
    "/api/safety/private-messages/",
    "/api/safety/private-messages/{private_message_id}/",
    # Your reports name whom you reported.
    "/api/safety/reports/",
    "/api/safety/reports/{report_id}/",
    # Whom you blocked (when you are the blocker).
    "/api/safety/blocks/",
    "/api/safety/blocks/{blocked_id}/",
    # Your own highlights stay whole: a reorder names every one.
    "/api/profiles/me/highlights/",
}

# Reads that show the hidden user (or what they wrote) before the block:
# with the path parameters naming their rows ("theirs"), or a third user's
# pages that show their posts ("friend's").
SHOWN = {
    "/api/badges/badge-grants/": "theirs",
    "/api/badges/badge-grants/{badge_grant_id}/": "theirs",
    "/api/profiles/posts/": "theirs",
    "/api/profiles/posts/{post_id}/": "theirs",
    "/api/profiles/reactions/": "theirs",
    "/api/profiles/reactions/{reaction_id}/": "theirs",
    "/api/profiles/user-profiles/": "theirs",
    "/api/profiles/user-profiles/{user_id}/": "theirs",
    "/api/profiles/users/": "theirs",
    "/api/profiles/users/{user_id}/": "theirs",
    "/api/profiles/users/{user_id}/highlights/": "friend's",
    "/api/profiles/users/{user_id}/reacted-posts/": "friend's",
    "/api/safety/chat-rooms/{room_id}/members/": "theirs",
    "/api/safety/chat-rooms/{room_id}/members/{user_id}/": "theirs",
    "/api/safety/chat-rooms/{room_id}/messages/": "theirs",
    "/api/safety/locations/nearby/": "theirs",
    "/api/safety/presence/": "theirs",
    "/api/safety/presence/{user_id}/": "theirs",
    "/api/wellness/match-results/": "theirs",
    "/api/wellness/match-results/{match_result_id}/": "theirs",
    "/api/wellness/stories/": "theirs",
    "/api/wellness/stories/{story_id}/": "theirs",
    "/api/wellness/user-tags/": "theirs",
    "/api/wellness/user-tags/{user_id}/": "theirs",
    "/api/wellness/user-tags/{user_id}/{tag_id}/": "theirs",
}
# The path parameters that name the hidden user's own rows.
THEIR_ROWS = {
    "user_id",
    "post_id",
    "reaction_id",
    "badge_grant_id",
    "story_id",
    "match_result_id",
}


class World:
    """``me``, the user who will be hidden from me (``them``), and a
    ``friend`` neither blocks, with rows in every app where one user sees
    another's: each of theirs visible to me before the block. The friend's
    lists keep a row of the friend's own after it (an empty list may cost
    a query more, to tell "none" from "no such user")."""

    def __init__(self):
        self.me, self.them, self.friend = UserFactory(), UserFactory(), UserFactory()
        me, them, friend = self.me, self.them, self.friend
        room = RoomFactory(owner=friend)  # public
        for member in (me, them):
            services.room_join(room=room, user=member)
        for author in (friend, them):
            services.room_message_post(room=room, user=author, message="hello")
        services.presence_heartbeat(user=them, status="online", room_id=room.pk)
        for user in (me, them):
            services.location_set(user=user, city="Lisbon")
        UserProfileFactory(user=them)
        their_post, friends_post = PostFactory(author=them), PostFactory(author=friend)
        their_reaction = profiles_services.reaction_add(
            user=them, post=friends_post, kind="like"
        )
        for post in (friends_post, their_post):
            profiles_services.reaction_add(user=friend, post=post, kind="love")
            profiles_services.highlight_add(user=friend, post=post)
        profiles_services.highlight_add(user=me, post=their_post)
        grant = badge_grant(user=them, definition=BadgeDefinition.objects.first())
        wellness_services.interest_add(user=them, tag="walks")
        story = StoryFactory(user=them, visibility="public", tags=["walks"])
        match = MatchResult.objects.create(user=me, target_user=them, score=0.9)
        message = services.private_message_send(sender=them, recipient=me, message="x")
        report = services.report_create(
            reporter=me, reported_user=them, report_type="harassment"
        )
        self.theirs = {
            "room_id": room.pk,
            "tag_id": them.user_tags.get().tag_id,
            "private_message_id": message.pk,
            "report_id": report.pk,
            "blocked_id": them.pk,
            "user_id": them.pk,
            "post_id": their_post.pk,
            "reaction_id": their_reaction.pk,
            "badge_grant_id": grant.pk,
            "story_id": story.pk,
            "match_result_id": match.pk,
        }
        self.values = {
            "theirs": self.theirs,
            "friend's": {**self.theirs, "user_id": friend.pk},
        }


def urls(values: dict) -> dict[str, str]:
    """Every GET of the schema with its path parameters from ``values`` (a
    parameter not there gets a value naming nothing)."""
    found = {}
    for path, methods in schema_paths("/api/"):
        if "get" not in methods or path in ("/api/schema/", "/api/docs/"):
            continue
        url = path
        for name in re.findall(r"{(\w+)}", path):
            url = url.replace("{" + name + "}", str(values.get(name, 1)))
        found[path] = url
    return found


def missing(path: str, values: dict) -> str:
    """``path`` with the hidden user's rows replaced by ids naming nothing."""
    url = path
    for name in re.findall(r"{(\w+)}", path):
        value = values[name]
        if name in THEIR_ROWS:
            value = uuid.uuid4() if isinstance(value, uuid.UUID) else 2**62
        url = url.replace("{" + name + "}", str(value))
    return url


def read(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries)


@pytest.mark.parametrize("who_blocks", ["they block me", "I block them"])
def test_a_block_hides_each_from_the_other_on_every_read(who_blocks):
    world = World()
    me, them = world.me, world.them
    hidden = str(them.pk)
    client = token_client(me)
    before = {}
    for kind, values in world.values.items():
        for path, url in urls(values).items():
            client.get(url)  # what stays warm (stats in the cache) is warm
            response, before[url] = read(client, url)
            if SHOWN.get(path) == kind:
                assert response.status_code == 200, (url, response.content)
                assert hidden in response.content.decode(), f"{url} does not show them"
    if who_blocks == "they block me":
        services.block(blocker=them, blocked=me)
    else:
        services.block(blocker=me, blocked=them)
    for values in world.values.values():
        for path, url in urls(values).items():
            if path in KEPT:
                continue
            response, queries = read(client, url)
            assert hidden not in response.content.decode(), f"{url} shows them"
            if response.status_code == 200:  # hiding them cost no query
                assert queries == before[url], f"{url}: {before[url]}, then {queries}"
            elif path in SHOWN:  # their row: exactly as one that does not exist
                assert_error(response, 404, "not_found")
                nothing = client.get(missing(path, values))
                assert (nothing.status_code, nothing.json()) == (404, response.json())
    kept = KEPT
    if who_blocks == "they block me":  # I have blocked nobody
        kept = {path for path in KEPT if not path.startswith("/api/safety/blocks/")}
    for path, url in urls(world.theirs).items():
        if path in kept:
            assert hidden in client.get(url).content.decode(), url


def test_writes_naming_a_hidden_user_or_their_post_answer_as_for_nothing():
    """Reacting to or highlighting a post of a user hidden from you,
    messaging them or adding them to a room: each answers exactly as when
    the id names nothing (the id aside), whichever way the block goes, and
    writes nothing. Blocking them (back) still works."""
    for i_block in (False, True):
        me, them = UserFactory(), UserFactory()
        post, room = PostFactory(author=them), RoomFactory(owner=me)
        if i_block:
            services.block(blocker=me, blocked=them)
        else:
            services.block(blocker=them, blocked=me)
        client = token_client(me)
        members = f"/api/safety/chat-rooms/{room.pk}/members/"
        cases = [  # url, field, their id, an id naming nothing, the rest
            ("/api/profiles/reactions/", "post_id", post.pk, 2**62, {"kind": "like"}),
            ("/api/profiles/me/highlights/", "post_id", post.pk, 2**62, {}),
            ("/api/safety/private-messages/", "recipient_id", str(them.pk),
             str(uuid.uuid4()), {"message": "hi"}),
            (members, "user_id", str(them.pk), str(uuid.uuid4()), {}),
        ]  # fmt: skip
        for url, field, theirs, nothing, rest in cases:
            answers = [
                client.post(url, {field: value, **rest}, format="json")
                for value in (theirs, nothing)
            ]
            assert answers[1].status_code in (400, 404), answers[1].content
            bodies = [
                answer.content.decode().replace(str(value), "<id>")
                for answer, value in zip(answers, (theirs, nothing), strict=True)
            ]
            assert answers[0].status_code == answers[1].status_code, url
            assert bodies[0] == bodies[1], url
        assert not post.reactions.exists() and not post.highlights.exists()
        assert not them.received_messages.exists()
        assert not room.members.filter(user=them).exists()
        if not i_block:
            blocked = client.post("/api/safety/blocks/", {"blocked_id": str(them.pk)})
            assert blocked.status_code == 201, blocked.content
