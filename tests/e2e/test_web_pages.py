"""/chat and /agent in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium; never a downloaded browser) against a real
`ticketbot serve`.

Skipped with a reason when Chromium is absent; `.ci/run` installs it. With
``SCREENSHOTS_DIR=DIR`` the test saves both pages' screenshots there (docs/ holds the
ones the README shows).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import requests

from tests.support import ServerProcess

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="Chromium is not installed (apt-get install chromium chromium-driver; .ci/run "
        "does it), so the browser tests are skipped",
    ),
]
WAIT = 20


@pytest.fixture
def browser():
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager download a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(driver, url: str, key: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url)
    field = driver.find_element(By.ID, "key")
    assert field.get_attribute("type") == "password"
    assert driver.find_element(By.CSS_SELECTOR, "label[for=key]").text
    field.send_keys(key)
    field.submit()


def wait_for(driver, condition, message: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(condition, message)


def bot_replies(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#log li.bot")]


def say(driver, text: str, replies_before: int) -> str:
    """Type ``text`` and press Enter; the bot's last reply once it has answered."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, "message")
    box.send_keys(text, Keys.ENTER)
    wait_for(driver, lambda d: len(bot_replies(d)) > replies_before, f"no answer to {text!r}")
    return bot_replies(driver)[-1]


def screenshot(driver, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


def test_chat_creates_then_deletes_a_ticket_and_agents_fix_a_routing(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with ServerProcess(f"sqlite:///{tmp_path / 'web.db'}") as server:
        employee = server.create_key("requester", "camille")
        agent = server.create_key("agent", "alice")
        admin = server.session()

        # 1-2. An employee signs in and reports a problem in French.
        sign_in(browser, f"{server.url}/chat", employee)
        wait_for(browser, lambda d: d.find_element(By.ID, "chat").is_displayed(), "no chat")
        created = say(browser, "Bonjour, l'imprimante du 2e étage ne marche plus", 0)
        match = re.search(r"Ticket n°(\d+) créé .* service (\w+)", created)
        assert match, created
        number, department = int(match.group(1)), match.group(2)
        ticket = admin.get(f"{server.url}/tickets/{number}", timeout=10).json()
        assert ticket["department"] == department
        assert ticket["title"] == "L'imprimante du 2e étage ne marche plus"
        screenshot(browser, "chat.png")

        # 3. Deletes it: a question first, then a clear yes; the API confirms it is gone.
        question = say(browser, f"supprime le ticket {number}", len(bot_replies(browser)))
        assert "Supprimer définitivement" in question
        assert admin.get(f"{server.url}/tickets/{number}", timeout=10).status_code == 200
        done = say(browser, "oui vas-y", len(bot_replies(browser)))
        assert f"Ticket n°{number} supprimé" in done
        assert admin.get(f"{server.url}/tickets/{number}", timeout=10).status_code == 404

        # 4. An agent fixes a flagged ticket's department on /agent and sees it in its history.
        flagged = admin.post(f"{server.url}/tickets", json={"title": "bonjour"}, timeout=10).json()
        clear = admin.post(
            f"{server.url}/tickets",
            json={"title": "Le VPN se déconnecte", "description": "erreur 809 toutes les 5 min"},
            timeout=10,
        ).json()
        assert flagged["needs_review"] is True and clear["needs_review"] is False
        browser.execute_script("sessionStorage.clear()")
        sign_in(browser, f"{server.url}/agent", agent)
        row_id = f"ticket-{flagged['id']}"
        wait_for(
            browser, lambda d: d.find_elements(By.ID, row_id), "the flagged ticket is not listed"
        )
        rows = [r.get_attribute("id") for r in browser.find_elements(By.CSS_SELECTOR, "#queue tr")]
        assert rows == [row_id, f"ticket-{clear['id']}"]  # flagged first, then the rest
        new = "Facilities" if flagged["department"] != "Facilities" else "HR"
        Select(browser.find_element(By.ID, f"department-{flagged['id']}")).select_by_value(new)
        browser.find_element(By.ID, f"comment-{flagged['id']}").send_keys("Salle de pause")
        browser.find_element(By.ID, f"save-{flagged['id']}").click()
        events = f"#events-{flagged['id']} li"
        wait_for(
            browser,
            lambda d: any(
                f"department: {flagged['department']} → {new}" in e.get_attribute("textContent")
                for e in d.find_elements(By.CSS_SELECTOR, events)
            ),
            "the department change is not in the ticket's history",
        )
        assert browser.find_element(By.ID, f"saved-{flagged['id']}").text == "Saved."
        after = admin.get(f"{server.url}/tickets/{flagged['id']}", timeout=10).json()
        assert after["department"] == new and after["needs_review"] is False
        comments = admin.get(f"{server.url}/tickets/{flagged['id']}/comments", timeout=10).json()
        assert [c["body"] for c in comments["items"]] == ["Salle de pause"]
        screenshot(browser, "agent.png")


def test_the_pages_need_nothing_from_another_site(tmp_path):
    with ServerProcess(f"sqlite:///{tmp_path / 'assets.db'}") as server:
        for page in ("/chat", "/agent"):
            html = requests.get(server.url + page, timeout=10).text
            assert re.findall(r'(?:src|href)="(https?:)?//', html) == [], page
            for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
                assert requests.get(server.url + asset, timeout=10).status_code == 200, asset
        assert requests.get(server.url + "/static/common.js", timeout=10).status_code == 200


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed")
def test_a_requester_key_cannot_open_the_review_queue(browser, tmp_path):
    from selenium.webdriver.common.by import By

    with ServerProcess(f"sqlite:///{tmp_path / 'roles.db'}") as server:
        sign_in(browser, f"{server.url}/agent", server.create_key("requester", "sam"))
        wait_for(
            browser,
            lambda d: "réservée aux agents" in d.find_element(By.ID, "signin-error").text,
            "a requester was let into /agent",
        )
        assert not browser.find_element(By.ID, "queue-section").is_displayed()


def test_the_chat_works_on_a_phone_by_keyboard_alone(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(390, 844)  # a phone's viewport
    with ServerProcess(f"sqlite:///{tmp_path / 'phone.db'}") as server:
        key = server.create_key("requester", "kim")
        browser.get(f"{server.url}/chat")
        keyboard = ActionChains(browser)
        keyboard.send_keys(Keys.TAB).perform()
        assert browser.switch_to.active_element.get_attribute("id") == "key"
        keyboard.send_keys(key, Keys.ENTER).perform()
        wait_for(browser, lambda d: d.find_element(By.ID, "chat").is_displayed(), "no chat")
        wait_for(
            browser,
            lambda d: d.switch_to.active_element.get_attribute("id") == "message",
            "the message box does not get the focus after signing in",
        )
        ActionChains(browser).send_keys("Mon écran reste noir au démarrage", Keys.ENTER).perform()
        wait_for(browser, lambda d: bot_replies(d), "no answer")
        assert "créé" in bot_replies(browser)[-1]
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        ), "the page scrolls sideways on a phone"
