"""Every admin page a staff member can open, at a cost that does not grow with
the rows it lists. Models registered later are covered with no change here."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import rows_in_every_table
from tests.profiles.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

# Tables that hold one row by design: their changelists cannot grow.
ONE_ROW_TABLES = {"community.MemberIdSequence"}
# Models the admin cannot register (a composite primary key), each with the
# page where staff edit its rows instead.
EDITED_ELSEWHERE = {
    "wellness.UserTag": "the tag's page (add and remove users)",
    "safety.Block": "nowhere: a user's own choice, made in the API",
}


def model_admins():
    return [
        pytest.param(model, id=f"{model._meta.app_label}.{model._meta.model_name}")
        for model in admin.site._registry
    ]


def admin_url(model, view: str, *args) -> str:
    info = model._meta.app_label, model._meta.model_name
    return reverse(f"admin:{info[0]}_{info[1]}_{view}", args=args)


def test_every_table_has_a_row_and_an_admin(every_table):
    """The shared fixture and the admin cover every model (a new app adds
    its tables to both)."""
    from django.apps import apps

    registered = {model._meta.concrete_model for model in admin.site._registry}
    for model in apps.get_models():
        if model._meta.app_label in ("sessions", "contenttypes", "admin", "auth"):
            continue  # Django's own bookkeeping, and auth's permission table
        label = model._meta.label
        assert model._default_manager.exists(), f"no row of {label}"
        if label not in EDITED_ELSEWHERE:
            assert model._meta.concrete_model in registered, (
                f"{label} has no admin page"
            )


@pytest.mark.parametrize("model", model_admins())
def test_every_admin_page_opens(admin_client, every_table, model):
    changelist = admin_client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    searched = admin_client.get(admin_url(model, "changelist"), {"q": "x"})
    assert searched.status_code == 200
    obj = model._default_manager.first()
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    add = admin_client.get(admin_url(model, "add"))
    assert add.status_code in (200, 403)  # 403: rows the code alone writes


def changelist_queries(client, model) -> int:
    url = admin_url(model, "changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", model_admins())
def test_every_changelist_costs_the_same_for_1_and_20_rows(
    admin_client, staff_user, model
):
    rows_in_every_table(UserFactory())
    admin_client.get(admin_url(model, "changelist"))  # warm per-process caches
    one = changelist_queries(admin_client, model)
    for _ in range(19):
        rows_in_every_table(UserFactory())
    if model._meta.label in ONE_ROW_TABLES:
        pytest.skip("a table of one row")
    assert model._default_manager.count() >= 20
    twenty = changelist_queries(admin_client, model)
    assert twenty == one, f"{one} queries for 1 row, {twenty} for 20"


def test_user_autocomplete_works(admin_client, staff_user):
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": staff_user.username,
            "app_label": "profiles",
            "model_name": "post",
            "field_name": "author",
        },
    )
    assert response.status_code == 200
    assert response.json()["results"][0]["id"] == str(staff_user.pk)


@pytest.mark.parametrize("login", ["ada", "ADA@Example.COM"])
def test_admin_login_with_username_or_email_in_any_case(client, login):
    UserFactory(username="ada", email="ada@example.com", is_staff=True)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": login, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
