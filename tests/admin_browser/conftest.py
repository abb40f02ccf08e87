"""Staff tasks in the admin, done in headless Chromium against a live server.

One browser serves the whole session (``browser``); each test gets ``staff``,
a page driver signed in as a fresh superuser. Every test writes a screenshot
of its task's key page to ``artifacts/``.

Without Chromium and its driver the tests are skipped with a message saying
what to install; with ``BROWSER_TESTS=required`` (``.ci/run`` sets it) they
fail instead, so CI never skips them.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.profiles.factories import UserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = "chromium chromium-driver fonts-liberation fonts-noto-color-emoji"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
WAIT_SECONDS = 5


def chromium_options(profile: Path) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [
        "--headless",
        "--no-sandbox",  # the tests run as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        # Only the live server: no lookups of outside hosts (updates, fonts).
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
    ]:
        options.add_argument(flag)
    return options


@pytest.fixture(scope="session")
def browser(django_db_setup, live_server, tmp_path_factory):
    """Headless Chromium. It quits before the live server stops, and both
    before the test database goes, so no request thread of the server still
    holds a connection to it."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        message = (
            f"browser tests need {' and '.join(missing)}: apt-get install -y {PACKAGES}"
        )
        if os.environ.get("BROWSER_TESTS") == "required":
            pytest.fail(message)
        pytest.skip(message)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir()
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER),
        options=chromium_options(tmp_path_factory.mktemp("chromium")),
    )
    yield driver
    driver.quit()


class StaffBrowser:
    """The admin as a staff member sees it: open pages, fill and submit
    forms, pick from autocompletes, run list actions, read what is shown."""

    def __init__(self, driver, base_url: str, name: str):
        self.driver = driver
        self.base_url = base_url
        self.name = name
        self.shots = 0

    # --- moving around ---------------------------------------------------------------

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def wait_for(self, condition, message: str = ""):
        return WebDriverWait(self.driver, WAIT_SECONDS).until(condition, message)

    def _then_new_page(self, click) -> None:
        page = self.driver.find_element(By.TAG_NAME, "html")
        click()

        def gone(driver) -> bool:
            # Mid-navigation Chromium may answer for the old page's node with
            # "Node with given id does not belong to the document" (seen in
            # CI) instead of a stale element: either way the page is gone.
            try:
                page.is_enabled()
            except (StaleElementReferenceException, WebDriverException):
                return True
            return False

        self.wait_for(gone, "no new page")

    def click_link(self, text: str, within: str = "#content") -> None:
        """Follow the link reading ``text`` in the page's content (or in the
        part ``within`` selects), not in the sidebar."""
        link = self.driver.find_element(By.CSS_SELECTOR, within).find_element(
            By.LINK_TEXT, text
        )
        self._then_new_page(link.click)

    def press(self, label: str) -> None:
        """Press the submit button labelled ``label`` (Save, Run, ...)."""
        label = xpath_literal(label)
        button = self.driver.find_element(
            By.XPATH,
            f"//input[@type='submit'][@value={label}]"
            f" | //button[@type='submit'][normalize-space()={label}]",
        )
        self._then_new_page(button.click)

    def save(self) -> None:
        self.press("Save")

    def search(self, term: str) -> None:
        box = self.driver.find_element(By.ID, "searchbar")
        box.clear()
        box.send_keys(term)
        self._then_new_page(lambda: box.send_keys(Keys.ENTER))

    # --- forms -----------------------------------------------------------------------

    def field(self, name: str):
        return self.driver.find_element(By.NAME, name)

    def fill(self, name: str, value: str) -> None:
        field = self.field(name)
        field.clear()
        field.send_keys(value)

    def insert_text(self, name: str, text: str) -> None:
        """Put ``text`` in the field as typing or pasting would (ChromeDriver's
        keys cannot type emoji; this goes through the browser's text input,
        so limits such as ``maxlength`` apply as they would for a person)."""
        field = self.field(name)
        field.clear()
        field.click()
        self.driver.execute_cdp_cmd("Input.insertText", {"text": text})

    def tick(self, name: str, on: bool = True) -> None:
        box = self.field(name)
        if box.is_selected() != on:
            box.click()

    def choose(self, name: str, label: str) -> None:
        Select(self.field(name)).select_by_visible_text(label)

    def autocomplete(self, name: str, term: str, pick: str) -> None:
        """In the autocomplete box of field ``name``, type ``term`` and pick
        the suggestion that reads ``pick``."""
        select = self.field(name)
        box = select.find_element(
            By.XPATH, "following-sibling::span[contains(@class, 'select2')]"
        )
        box.click()
        search = self.wait_for(
            expected_conditions.visibility_of_element_located(
                (By.CSS_SELECTOR, ".select2-container--open .select2-search__field")
            )
        )
        search.send_keys(term)
        option = (
            By.XPATH,
            "//li[contains(@class, 'select2-results__option')]"
            f"[normalize-space()={xpath_literal(pick)}]",
        )

        def click_it(driver) -> bool:
            # The list is redrawn as each search answers: an option found a
            # moment ago may be gone (seen on a loaded machine).
            try:
                driver.find_element(*option).click()
            except (NoSuchElementException, StaleElementReferenceException):
                return False
            return True

        self.wait_for(click_it, f"no suggestion {pick!r} for {term!r}")

    def inline_row(self, prefix: str, text: str) -> str:
        """The form prefix (``members-2``) of the row of inline ``prefix``
        that shows ``text``."""
        row = self.driver.find_element(
            By.XPATH,
            f"//div[@id='{prefix}-group']//tr[starts-with(@id, '{prefix}-')]"
            f"[contains(normalize-space(), {xpath_literal(text)})]",
        )
        return row.get_attribute("id")

    # --- the change list -------------------------------------------------------------

    def rows(self) -> list[str]:
        """The change list's rows, as their text."""
        return [
            row.text
            for row in self.driver.find_elements(
                By.CSS_SELECTOR, "#result_list tbody tr"
            )
        ]

    def act(self, action: str, *rows: str) -> None:
        """Tick the rows whose text contains each of ``rows`` and run the
        action labelled ``action``."""
        for text in rows:
            row = self.driver.find_element(
                By.XPATH,
                "//table[@id='result_list']//tr"
                f"[contains(normalize-space(), {xpath_literal(text)})]",
            )
            row.find_element(By.CSS_SELECTOR, "input.action-select").click()
        Select(self.field("action")).select_by_visible_text(action)
        self.press("Run")

    def filter_by(self, title: str, choice: str) -> None:
        """Click ``choice`` under the sidebar filter ``title``."""
        link = self.driver.find_element(
            By.XPATH,
            f"//details[@data-filter-title={xpath_literal(title)}]"
            f"//a[normalize-space()={xpath_literal(choice)}]",
        )
        self._then_new_page(link.click)

    # --- what the page says ----------------------------------------------------------

    def text(self, css: str = "body") -> str:
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def texts(self, css: str) -> list[str]:
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)]

    def messages(self) -> list[str]:
        return self.texts("ul.messagelist li")

    def errors(self) -> list[str]:
        return self.texts(".errorlist li, .errornote")

    def has(self, css: str) -> bool:
        return bool(self.driver.find_elements(By.CSS_SELECTOR, css))

    def screenshot(self, what: str = "", of: str = "") -> Path:
        """Save the window to ``artifacts/<test>[-<what>].png``, scrolled to
        the element ``of`` selects when given."""
        if of:
            element = self.driver.find_element(By.CSS_SELECTOR, of)
            self.driver.execute_script("arguments[0].scrollIntoView()", element)
        self.shots += 1
        path = ARTIFACTS / f"{self.name}{'-' + what if what else ''}.png"
        self.driver.save_screenshot(str(path))
        return path


def xpath_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    parts = text.split("'")
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in parts) + ")"


@pytest.fixture
def staff_member(transactional_db):
    return UserFactory(
        username="staff", email="staff@example.com", is_staff=True, is_superuser=True
    )


@pytest.fixture
def anonymous(browser, live_server, request):
    """The browser at the live server, signed out."""
    browser.delete_all_cookies()
    page = StaffBrowser(browser, live_server.url, request.node.name)
    yield page
    if not page.shots:
        page.screenshot()


@pytest.fixture
def staff(anonymous, staff_member):
    """The browser signed in to the admin as ``staff_member``, a superuser."""
    client = Client()
    client.force_login(staff_member)
    anonymous.open("/admin/login/")  # a page of the site, to set its cookie
    anonymous.driver.add_cookie(
        {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "path": "/",
        }
    )
    return anonymous
