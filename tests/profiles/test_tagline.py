"""The tagline rule, table-driven, through every door: the function, the model,
the API and the admin form."""

import json
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from profiles.validators import clean_tagline
from tests.profiles.helpers import admin_user_form

# (input, stored value)
ACCEPTED = [
    ("Hello", "Hello"),
    ("  padded\t\n", "padded"),
    ("", None),
    ("   ", None),
    (None, None),
    ("a" * 48, "a" * 48),
    ("é" * 48, "é" * 48),  # 2 bytes each in UTF-8, 48 code points
    ("漢" * 48, "漢" * 48),  # CJK, 3 bytes each
    ("😀" * 48, "😀" * 48),  # 4 bytes each
    ("👩‍👩‍👧‍👦 family", "👩‍👩‍👧‍👦 family"),  # ZWJ sequence
    ("👋🏽 wave", "👋🏽 wave"),  # skin tone modifier
    ("🇵🇹 🇯🇵", "🇵🇹 🇯🇵"),  # regional-indicator flags
    ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"),  # tag-sequence flag (Scotland)
    ("שלום עולם", "שלום עולם"),  # Hebrew, right-to-left
    ("مرحبا بالعالم", "مرحبا بالعالم"),  # Arabic
    ("a\u200fb\u200e", "a\u200fb\u200e"),  # implicit RLM/LRM marks are fine
    ("Cafe\u0301", "Café"),  # combining accent, NFC-composed
    ("e\u0301" * 48, "é" * 48),  # 96 code points before NFC, 48 after
    ("Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇", unicodedata.normalize("NFC", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇")),  # stacked marks
]

# (input, error code)
REJECTED = [
    ("a" * 49, "tagline_too_long"),
    ("é" * 49, "tagline_too_long"),
    ("漢" * 49, "tagline_too_long"),
    ("😀" * 49, "tagline_too_long"),
    ("👩‍👩‍👧‍👦" * 7, "tagline_too_long"),  # 49 code points: 7 per family
    ("nul\x00byte", "tagline_nul"),
    ("bell\x07", "tagline_control_character"),
    ("line\nbreak", "tagline_control_character"),
    ("tab\tinside", "tagline_control_character"),
    ("del\x7f", "tagline_control_character"),
    ("c1\x85control", "tagline_control_character"),
    ("lone \ud800 surrogate", "tagline_surrogate"),
    ("low \udfff", "tagline_surrogate"),
    ("evil\u202eelif", "tagline_bidi_control"),  # RIGHT-TO-LEFT OVERRIDE
    ("\u202dforced", "tagline_bidi_control"),  # LEFT-TO-RIGHT OVERRIDE
    ("\u202aembed\u202c", "tagline_bidi_control"),  # embedding + pop
    ("iso\u2066late\u2069", "tagline_bidi_control"),  # LEFT-TO-RIGHT ISOLATE
    ("\u2067rli", "tagline_bidi_control"),
    ("\u2068fsi", "tagline_bidi_control"),
]


@pytest.mark.parametrize("value, stored", ACCEPTED)
def test_accepted(value, stored):
    assert clean_tagline(value) == stored


@pytest.mark.parametrize("value, code", REJECTED)
def test_rejected_with_a_reason(value, code):
    with pytest.raises(ValidationError) as error:
        clean_tagline(value)
    assert error.value.code == code
    assert error.value.messages[0].startswith("Tagline ")


def test_messages_say_which_character():
    with pytest.raises(ValidationError) as error:
        clean_tagline("abc\u202e")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in error.value.messages[0]
    assert "position 4" in error.value.messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize("value, stored", [v for v in ACCEPTED if v[1]])
def test_accepted_through_the_api_and_stored_as_postgresql_counts(
    api_client, user, value, stored
):
    response = api_client.patch("/api/profiles/me/", {"tagline": value})
    assert response.status_code == 200, response.json()
    assert response.json()["tagline"] == stored
    user.refresh_from_db()
    assert user.tagline == stored
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT char_length(tagline) FROM users WHERE id = %s", [user.pk]
            )
            assert cursor.fetchone()[0] == len(stored) <= 48


@pytest.mark.django_db
@pytest.mark.parametrize("value, code", REJECTED)
def test_rejected_through_the_api_with_a_400(api_client, user, value, code):
    # json.dumps escapes a lone surrogate as \\ud800, as any JSON client would.
    response = api_client.patch(
        "/api/profiles/me/",
        json.dumps({"tagline": value}),
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("tagline", code)
    assert error["message"].startswith("Tagline ")
    user.refresh_from_db()
    assert user.tagline is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value, code",
    [
        r
        for r in REJECTED
        if "\x00" not in r[0] and "\ud800" not in r[0] and "\udfff" not in r[0]
    ],
)
def test_rejected_in_the_admin_form(client, staff_user, user, value, code):
    """The admin form shows the same rule's error; the row is unchanged.

    (NUL and lone surrogates cannot travel in a form post: Django's own form
    field refuses NUL first, and a browser cannot encode a lone surrogate.)
    """
    client.force_login(staff_user)
    response = client.post(
        f"/admin/profiles/user/{user.pk}/change/", admin_user_form(user, tagline=value)
    )
    assert response.status_code == 200
    assert (
        response.context["adminform"].form.errors["tagline"][0].startswith("Tagline ")
    )
    user.refresh_from_db()
    assert user.tagline is None


@pytest.mark.django_db
def test_admin_form_normalises_like_the_api(client, staff_user, user):
    client.force_login(staff_user)
    response = client.post(
        f"/admin/profiles/user/{user.pk}/change/",
        admin_user_form(user, tagline="  Cafe\u0301 " + "e\u0301" * 40),
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.tagline == "Café " + "é" * 40
