"""The officer switches the app to English: home, quiz and result screens speak English."""

import re

from playwright.sync_api import Page, expect

from tests.browser.harness import RunningApp
from tests.browser.ui import (
    OfficerApi,
    answer_item,
    cjk_in,
    go_to_position,
    login,
    shot,
    tid,
)

# The app's own chrome; quiz titles and questions are data and stay Chinese.
NAVIGATION = {
    "nav-home": re.compile(r"home", re.I),
    "nav-practice": re.compile(r"practi[cs]e", re.I),
    "nav-profile": re.compile(r"profile|\bme\b|account|mine", re.I),
}
QUIZ_BUTTONS = {
    "quiz-prev": re.compile(r"prev", re.I),
    "quiz-next": re.compile(r"next", re.I),
    "quiz-submit": re.compile(r"submit|hand in|finish", re.I),
}


def _english(page: Page, test_ids: list[str]) -> None:
    for name in test_ids:
        text = tid(page, name).first.inner_text()
        assert text.strip(), f"{name} shows no text"
        assert not cjk_in(text), f"{name} still shows Chinese in English mode: {text!r}"


def test_english_ui(page: Page, running_app: RunningApp) -> None:
    name = "english_ui"
    base, seed = running_app.base_url, running_app.seed
    quiz_id, username = seed.main_quiz_id, seed.officers["english"]
    api = OfficerApi(base, username)

    login(page, base, username)
    expect(tid(page, "nav-profile")).to_be_visible()
    tid(page, "nav-profile").click()
    expect(tid(page, "profile-language-en")).to_be_visible()
    shot(page, name, "01-profile-zh")
    tid(page, "profile-language-en").click()
    expect(tid(page, "nav-home")).to_have_text(NAVIGATION["nav-home"])
    _english(page, ["nav-home", "nav-practice", "nav-profile", "profile-logout"])
    shot(page, name, "02-profile-en")

    # The font-size setting scales the page (everything is in rem of the root font size).
    root_px = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
    tid(page, "profile-font-standard").click()
    standard: float = page.evaluate(root_px)
    tid(page, "profile-font-xlarge").click()
    page.wait_for_function(f"({root_px})() > {standard}")
    shot(page, name, "03-profile-font-xlarge")
    tid(page, "profile-font-standard").click()
    page.wait_for_function(f"({root_px})() === {standard}")

    tid(page, "nav-home").click()
    expect(tid(page, f"home-start-{quiz_id}")).to_be_visible()
    for test_id, pattern in NAVIGATION.items():
        expect(tid(page, test_id)).to_have_text(pattern)
    _english(page, ["nav-home", "nav-practice", "nav-profile", f"home-start-{quiz_id}"])
    shot(page, name, "04-home-en")

    # English survives a reload (the choice is kept, not just held in memory).
    page.reload()
    expect(tid(page, "nav-home")).to_have_text(NAVIGATION["nav-home"])

    tid(page, f"home-start-{quiz_id}").click()
    expect(tid(page, "question-stem")).to_be_visible()
    for test_id, pattern in QUIZ_BUTTONS.items():
        if tid(page, test_id).is_visible():
            expect(tid(page, test_id)).to_have_text(pattern)
    _english(page, ["quiz-submit", "quiz-sheet-open", "question-position"])
    shot(page, name, "05-quiz-en")

    attempt_id = api.my_quiz(quiz_id)["attempt_in_progress_id"]
    items = sorted(api.attempt(attempt_id)["items"], key=lambda item: item["position"])
    go_to_position(page, 1)
    answer_item(page, items[0])
    tid(page, "quiz-submit").click()
    expect(tid(page, "submit-confirm")).to_be_visible()
    _english(page, ["submit-confirm", "submit-unanswered"])
    shot(page, name, "06-submit-en")
    tid(page, "submit-confirm").click()

    expect(tid(page, "result-score")).to_be_visible()
    _english(page, ["result-score", "result-passed"])
    shot(page, name, "07-result-en")

    assert api.get("/me")["language"] == "en", "the language choice is not saved to the officer's profile"
    api.close()
