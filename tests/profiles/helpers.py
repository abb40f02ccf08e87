"""Helpers and test data for the profiles tests."""

import unicodedata


def admin_user_form(user, **changes) -> dict:
    """The POST body of the admin's user change page, with ``changes``."""
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "tagline": user.tagline or "",
        "auth0_sub": "",
        "is_active": "on",
        "profile-TOTAL_FORMS": "0",
        "profile-INITIAL_FORMS": "0",
        "highlights-TOTAL_FORMS": "0",
        "highlights-INITIAL_FORMS": "0",
        "badge_grants-TOTAL_FORMS": "0",
        "badge_grants-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


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
