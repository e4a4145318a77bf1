"""Practice smoke test: the areas list, practising an area, answers with feedback, the wrong book."""

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.harness import RunningApp
from tests.browser.ui import OfficerApi, field_input, login, shot, tid

MAX_QUESTIONS = 6


def _answer_on_screen(page: Page) -> None:
    """Answer the practice question shown (its type is read from the controls on screen).

    Choice answers take the first option(s); a blank gets a text no key holds, so it is wrong.
    """
    options = page.locator("[data-testid^='option-']")
    blanks = page.locator("[data-testid^='blank-']")
    if tid(page, "tf-true").count():
        tid(page, "tf-false").click()
    elif options.count():
        options.first.click()
        if options.count() > 4:  # five options: a multiple-choice question, which needs two
            options.nth(1).click()
    elif blanks.count():
        for n in range(blanks.count()):
            field_input(blanks.nth(n)).fill("练习答案")
    else:
        raise AssertionError("the practice question shows no answer controls")


def test_practice_smoke(page: Page, running_app: RunningApp) -> None:
    name = "practice"
    base, seed = running_app.base_url, running_app.seed
    username = seed.officers["practice"]
    api = OfficerApi(base, username)
    areas: list[dict[str, Any]] = api.get("/practice/areas")
    assert areas, "no practice areas although the sample bank is loaded"
    area = max(areas, key=lambda a: a["questions"])

    login(page, base, username)
    tid(page, "nav-practice").click()
    expect(tid(page, f"practice-area-{area['id']}")).to_be_visible()
    expect(tid(page, "practice-weak")).to_be_visible()
    expect(tid(page, "practice-wrong-book")).to_be_visible()
    shot(page, name, "01-areas")

    tid(page, f"practice-area-{area['id']}").click()
    expect(tid(page, "question-stem")).to_be_visible()
    shot(page, name, "02-question")
    # Answer until one answer is wrong (it lands in the wrong book); feedback after every answer.
    wrong: list[dict[str, Any]] = []
    for n in range(1, MAX_QUESTIONS + 1):
        stem = tid(page, "question-stem").inner_text()
        _answer_on_screen(page)
        tid(page, "practice-answer-submit").click()
        expect(tid(page, "practice-feedback")).to_be_visible()
        assert tid(page, "practice-feedback").inner_text().strip()
        if n == 1:
            shot(page, name, "03-feedback")
        wrong = api.get("/me/wrong-book")["items"]
        if wrong:
            break
        tid(page, "practice-next").click()
        expect(tid(page, "practice-feedback")).to_be_hidden()
        expect(tid(page, "question-stem")).not_to_have_text(stem)
    assert wrong, f"{MAX_QUESTIONS} deliberately poor answers and the wrong book is still empty"
    shot(page, name, "04-wrong-feedback")

    page.go_back()  # the session screen has no tab bar: back to the practice screen
    tid(page, "practice-wrong-book").click()
    for item in wrong:
        expect(tid(page, f"wrongbook-item-{item['question_id']}")).to_be_visible()
    shot(page, name, "05-wrong-book")
    api.close()
