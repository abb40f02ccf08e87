"""Helpers for the profiles tests."""


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
