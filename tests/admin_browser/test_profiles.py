"""Users in the admin: signing in, finding people, taglines, highlights,
passwords."""

from selenium.webdriver.common.by import By

from config import settings as project_settings
from profiles import services
from tests.profiles.factories import PASSWORD, PostFactory, UserFactory


def change_url(user) -> str:
    return f"/admin/profiles/user/{user.pk}/change/"


def test_staff_sign_in_and_see_the_product_and_their_bcrypt_password(
    anonymous, settings, transactional_db
):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS  # not the tests'

    ada = UserFactory(username="ada", is_staff=True, is_superuser=True)
    assert ada.password.startswith("bcrypt_sha256$")

    anonymous.open("/admin/")
    assert anonymous.driver.title == "Log in | Backend staff admin"
    anonymous.fill("username", "ada")
    anonymous.fill("password", PASSWORD)
    anonymous.press("Log in")
    assert anonymous.text("#site-name") == "Backend staff admin"
    assert anonymous.text("h1") == "Users, community, chat, wellness and safety"
    anonymous.screenshot("index")

    anonymous.open(change_url(ada))
    password = anonymous.text(".field-password")
    assert "algorithm: bcrypt_sha256" in password
    anonymous.screenshot("password")


def test_find_a_user_by_email_username_or_tagline(staff):
    UserFactory(username="ada", email="countess@lovelace.test", tagline="Poet 🌙")
    UserFactory(username="grace", email="grace@navy.test", tagline="Bugs 🐛")
    staff.open("/admin/profiles/user/")

    staff.search("LOVELACE.test")
    assert [row.split()[0] for row in staff.rows()] == ["ada"]
    staff.search("grace")
    assert [row.split()[0] for row in staff.rows()] == ["grace"]
    staff.search("🐛")
    assert [row.split()[0] for row in staff.rows()] == ["grace"]
    staff.screenshot()


def test_a_tagline_with_a_bidi_override_or_49_characters_is_refused(staff):
    user = UserFactory(username="ada", tagline="before")
    staff.open(change_url(user))

    staff.fill("tagline", "safe \u202egnp.exe")
    staff.save()
    assert staff.errors() == [
        "Please correct the error below.",
        "Tagline can't contain bidirectional override or isolate characters "
        "(U+202E RIGHT-TO-LEFT OVERRIDE at position 6).",
    ]
    staff.screenshot("bidi")
    user.refresh_from_db()
    assert user.tagline == "before"

    staff.fill("tagline", "x" * 49)
    staff.save()
    assert "Tagline can be at most 48 characters; this one has 49." in staff.errors()
    staff.screenshot("too-long")
    user.refresh_from_db()
    assert user.tagline == "before"


def test_emoji_and_right_to_left_taglines_save_and_show(staff):
    emoji = "🌈" * 40 + " 👩🏽‍💻🇵🇹"  # 46 code points, 92 UTF-16 units
    arabic = "مرحبا بالعالم!"
    ada = UserFactory(username="ada")
    rami = UserFactory(username="rami")

    staff.open(change_url(ada))
    staff.insert_text("tagline", emoji)
    staff.save()
    assert staff.messages() == ["The user “ada” was changed successfully."]
    staff.open(change_url(rami))
    staff.insert_text("tagline", arabic)
    assert staff.field("tagline").value_of_css_property("direction") == "rtl"
    staff.save()

    ada.refresh_from_db()
    rami.refresh_from_db()
    assert (ada.tagline, rami.tagline) == (emoji, arabic)
    shown = {
        cell.text: cell.find_element(By.TAG_NAME, "span").value_of_css_property(
            "direction"
        )
        for cell in staff.driver.find_elements(
            By.CSS_SELECTOR, "td.field-tagline_shown"
        )
        if cell.text != "-"
    }
    assert shown == {emoji: "ltr", arabic: "rtl"}
    staff.screenshot()


def test_reorder_a_users_highlights(staff):
    user = UserFactory(username="ada")
    posts = [PostFactory(author=user, body=body) for body in ("one", "two", "three")]
    for post in posts:
        services.highlight_add(user=user, post=post)
    staff.open(change_url(user))
    staff.click_link("Reorder the highlights of ada")

    for post in posts:  # the same place twice is refused, and nothing changes
        staff.fill(f"post_{post.pk}", "1")
    staff.press("Save order")
    assert "Give each highlight a different position." in staff.errors()
    assert list(
        user.highlights.order_by("position").values_list("post", flat=True)
    ) == [post.pk for post in posts]

    for post, place in zip(posts, ["2", "3", "1"], strict=True):
        staff.fill(f"post_{post.pk}", place)
    staff.press("Save order")
    assert staff.messages() == ["Highlights reordered."]
    staff.screenshot()
    assert list(
        user.highlights.order_by("position").values_list("post", flat=True)
    ) == [
        posts[2].pk,
        posts[0].pk,
        posts[1].pk,
    ]
    # The page shows the new order: the third post first.
    assert staff.field(f"post_{posts[2].pk}").get_attribute("value") == "1"


def test_a_users_page_links_their_posts(staff):
    user = UserFactory(username="ada")
    PostFactory(author=user, body="ada's post")
    PostFactory(body="someone else's post")
    staff.open(change_url(user))
    staff.click_link("Posts", within=".field-related")
    assert len(staff.rows()) == 1
    assert "ada's post" in staff.rows()[0]
