"""The badges API: definitions anyone signed in reads and staff write, grants
staff make and revoke, and the artwork the icon URLs point at."""

import struct

import pytest

from badges.models import BadgeDefinition, BadgeGrant
from tests.badges.factories import BadgeDefinitionFactory, BadgeGrantFactory
from tests.helpers import assert_error, assert_list_queries_constant

pytestmark = pytest.mark.django_db


def test_definitions_are_readable_by_anyone_signed_in(api_client):
    body = api_client.get("/api/badges/badge-definitions/").json()
    assert [d["badge"] for d in body["results"]] == [
        "early-adopter",
        "moderator",
        "top-contributor",
    ]
    one = api_client.get("/api/badges/badge-definitions/moderator/").json()
    assert one["icon_url_16"] == "/public/badges/moderator_16.png"


def test_definitions_filter_tag_badges(api_client):
    body = api_client.get("/api/badges/badge-definitions/?is_tag_badge=false").json()
    assert [d["badge"] for d in body["results"]] == ["top-contributor"]


def test_only_staff_with_permissions_write_definitions(api_client, staff_client):
    payload = {"badge": "helper", "label": "Helper", "is_tag_badge": True}
    assert api_client.post("/api/badges/badge-definitions/", payload).status_code == 403
    response = staff_client.post("/api/badges/badge-definitions/", payload)
    assert response.status_code == 201
    assert response.json()["icon_url_16"] == "/public/badges/helper_16.png"


def test_badge_identifier_cannot_change(staff_client):
    url = "/api/badges/badge-definitions/moderator/"
    response = staff_client.patch(url, {"badge": "mod", "label": "Mod"})
    body = assert_error(response, 400, "invalid")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("badge", "read_only")]
    response = staff_client.patch(url, {"label": "Mod"})
    assert response.status_code == 200
    assert (response.json()["badge"], response.json()["label"]) == ("moderator", "Mod")


def test_definition_with_grants_cannot_be_deleted(staff_client):
    BadgeGrantFactory(definition=BadgeDefinition.objects.get(badge="moderator"))
    assert (
        staff_client.delete("/api/badges/badge-definitions/moderator/").status_code
        == 409
    )
    assert (
        staff_client.delete(
            "/api/badges/badge-definitions/top-contributor/"
        ).status_code
        == 204
    )


@pytest.mark.parametrize("badge", ["has space", "x" * 51, "", "\x00"])
def test_badge_identifier_must_be_a_short_slug(staff_client, badge):
    response = staff_client.post(
        "/api/badges/badge-definitions/", {"badge": badge, "label": "X"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "badge"


def test_grants_nest_their_definition(api_client, user):
    BadgeGrantFactory(
        user=user, definition=BadgeDefinition.objects.get(badge="moderator")
    )
    body = api_client.get(f"/api/badges/badge-grants/?user_id={user.pk}").json()
    (grant,) = body["results"]
    assert grant["badge"] == "moderator"
    assert grant["user_id"] == str(user.pk)
    assert grant["definition"]["label"] == "Moderator"
    assert grant["definition"]["icon_url_64"] == "/public/badges/moderator_64.png"


def test_staff_grant_and_revoke_through_the_api(api_client, staff_client, user):
    payload = {"user_id": str(user.pk), "badge": "early-adopter"}
    assert api_client.post("/api/badges/badge-grants/", payload).status_code == 403
    created = staff_client.post("/api/badges/badge-grants/", payload)
    assert created.status_code == 201
    assert created.json()["definition"]["badge"] == "early-adopter"
    again = staff_client.post("/api/badges/badge-grants/", payload)
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "badge_already_granted"
    grant_id = created.json()["id"]
    assert api_client.delete(f"/api/badges/badge-grants/{grant_id}/").status_code == 403
    assert (
        staff_client.delete(f"/api/badges/badge-grants/{grant_id}/").status_code == 204
    )
    assert not BadgeGrant.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"badge": "nope"}, "badge"),
        ({"badge": "nul\x00"}, "badge"),
        ({"badge": "not a slug"}, "badge"),
        ({"user_id": "00000000-0000-4000-8000-000000000000"}, "user_id"),
    ],
)
def test_grant_of_unknown_badge_or_user_is_a_400(staff_client, user, payload, field):
    response = staff_client.post(
        "/api/badges/badge-grants/",
        {"user_id": str(user.pk), "badge": "moderator", **payload},
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {field}


def test_definition_path_must_be_a_slug(api_client):
    assert api_client.get("/api/badges/badge-definitions/a%00b/").status_code == 404


def test_grant_list_queries_do_not_grow(api_client):
    assert_list_queries_constant(
        api_client,
        "/api/badges/badge-grants/",
        lambda n: BadgeGrantFactory.create_batch(n),
    )


def test_definition_list_queries_do_not_grow(api_client):
    assert_list_queries_constant(
        api_client,
        "/api/badges/badge-definitions/",
        lambda n: BadgeDefinitionFactory.create_batch(n),
    )


def png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", body[16:24])


@pytest.mark.parametrize("badge", ["early-adopter", "top-contributor", "moderator"])
def test_the_seeded_badges_icons_are_served(client, badge):
    definition = BadgeDefinition.objects.get(badge=badge)
    icons = [(definition.icon_url_64, 64), (definition.icon_url_16, 16)]
    for url, size in icons if definition.is_tag_badge else icons[:1]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "image/png"
        assert png_size(b"".join(response.streaming_content)) == (size, size)


def test_a_badge_without_artwork_is_a_404(client):
    assert client.get("/public/badges/helper_64.png").status_code == 404
