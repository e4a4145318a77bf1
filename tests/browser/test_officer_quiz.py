"""The officer's quiz on a phone: resume after reload, answering offline, submit, the server's clock."""

import re
import time
from datetime import datetime
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.harness import PASSWORD, SAVE_GRACE_SECONDS, SWEEP_INTERVAL_SECONDS, RunningApp
from tests.browser.ui import (
    UI_TIMEOUT_MS,
    Answer,
    OfficerApi,
    answer_item,
    assert_unmarked,
    countdown_seconds,
    fill,
    go_to_position,
    login,
    numbers_in,
    shot,
    shows_answer,
    stored_matches,
    tid,
    wait_for,
)


def _seconds_left(attempt: dict[str, Any]) -> float:
    deadline = datetime.fromisoformat(attempt["deadline"])
    now = datetime.fromisoformat(attempt["server_time"])
    return (deadline - now).total_seconds()


def _items(attempt: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(attempt["items"], key=lambda item: item["position"])


def _wait_stored(api: OfficerApi, attempt_id: int, answers: list[Answer], timeout: float = 30) -> None:
    def stored() -> bool:
        items = {item["id"]: item for item in api.attempt(attempt_id)["items"]}
        return all(stored_matches(items[a.item_id], a) for a in answers)

    wait_for(f"the server to hold answers {[a.position for a in answers]}", stored, timeout=timeout)


def _start(page: Page, api: OfficerApi, quiz_id: int) -> tuple[int, list[dict[str, Any]]]:
    """Press start on the home screen; (attempt id, its items by position) from the API."""
    expect(tid(page, f"home-quiz-{quiz_id}")).to_be_visible()
    tid(page, f"home-start-{quiz_id}").click()
    expect(tid(page, "question-stem")).to_be_visible()
    attempt_id = api.my_quiz(quiz_id)["attempt_in_progress_id"]
    assert attempt_id, "the quiz has no attempt in progress after pressing start"
    return attempt_id, _items(api.attempt(attempt_id))


def _open_sheet(page: Page) -> None:
    tid(page, "quiz-sheet-open").click()
    expect(tid(page, "sheet-item-1")).to_be_visible()


def _close_sheet(page: Page, position: int) -> None:
    """Pick the question on screen in the answer sheet (which closes it), or tap outside it."""
    tid(page, f"sheet-item-{position}").click()
    try:
        expect(tid(page, "sheet-item-1")).to_be_hidden(timeout=2000)
    except AssertionError:
        page.mouse.click(195, 20)
        expect(tid(page, "sheet-item-1")).to_be_hidden()


def test_officer_quiz(page: Page, context: BrowserContext, running_app: RunningApp) -> None:
    name = "officer_quiz"
    base, seed = running_app.base_url, running_app.seed
    quiz_id, username = seed.main_quiz_id, seed.officers["quiz"]
    api = OfficerApi(base, username)

    login(page, base, username)
    expect(tid(page, f"home-quiz-{quiz_id}")).to_be_visible()
    shot(page, name, "01-home")

    attempt_id, items = _start(page, api, quiz_id)
    assert {item["type"] for item in items} == {"single", "multiple", "true_false", "fill_blank"}
    assert len(items) == 6
    expect(tid(page, "question-position")).to_have_text(re.compile(r"^\D*1\b"))
    expect(tid(page, "quiz-countdown")).to_be_visible()
    shot(page, name, "02-question-1")

    # The first two questions, online: both saved and acknowledged.
    answers: list[Answer] = []
    for position in (1, 2):
        go_to_position(page, position)
        assert_unmarked(page, items[position - 1])
        answers.append(answer_item(page, items[position - 1]))
    _wait_stored(api, attempt_id, answers)
    expect(tid(page, "quiz-save-status")).to_have_attribute("data-state", "saved")
    shot(page, name, "03-answered-2")

    # Reload mid-quiz: the answers are still shown and the time left is the server's.
    before = countdown_seconds(page)
    reloaded_at = time.monotonic()
    page.reload()
    expect(tid(page, "question-stem")).to_be_visible()
    expect(tid(page, "quiz-countdown")).to_be_visible()
    after = countdown_seconds(page)
    elapsed = time.monotonic() - reloaded_at
    assert abs((before - elapsed) - after) <= 3, (
        f"countdown {before}s before the reload, {after}s after it, {elapsed:.1f}s later"
    )
    server_left = _seconds_left(api.attempt(attempt_id))
    assert abs(countdown_seconds(page) - server_left) <= 3, (
        f"countdown {countdown_seconds(page)}s, the server's deadline is {server_left:.1f}s away"
    )
    for answer in answers:
        go_to_position(page, answer.position)
        assert shows_answer(page, items[answer.position - 1], answer), (
            f"question {answer.position} does not show its saved answer after the reload"
        )
    shot(page, name, "04-after-reload")

    # Offline: three more answers wait on the phone.
    context.set_offline(True)
    offline: list[Answer] = []
    for position in (3, 4, 5):
        go_to_position(page, position)
        assert_unmarked(page, items[position - 1])
        offline.append(answer_item(page, items[position - 1], variant=1))
        expect(tid(page, "quiz-save-status")).to_have_attribute("data-state", "pending")
    shot(page, name, "05-offline-pending")
    _open_sheet(page)
    for position in (1, 2):
        expect(tid(page, f"sheet-item-{position}")).to_have_attribute("data-state", "saved")
    for position in (3, 4, 5):
        expect(tid(page, f"sheet-item-{position}")).to_have_attribute("data-state", "pending")
    expect(tid(page, "sheet-item-6")).to_have_attribute("data-state", "unanswered")
    shot(page, name, "06-offline-sheet")
    _close_sheet(page, 5)
    held = {item["id"]: item for item in api.attempt(attempt_id)["items"]}
    assert all(held[a.item_id]["response"] is None for a in offline), "answers reached the server offline"

    # Online again: all three are sent and acknowledged without the officer doing anything.
    context.set_offline(False)
    _wait_stored(api, attempt_id, offline, timeout=30)
    expect(tid(page, "quiz-save-status")).to_have_attribute("data-state", "saved", timeout=UI_TIMEOUT_MS)
    _open_sheet(page)
    for position in (1, 2, 3, 4, 5):
        expect(tid(page, f"sheet-item-{position}")).to_have_attribute("data-state", "saved")
    expect(tid(page, "sheet-item-6")).to_have_attribute("data-state", "unanswered")
    shot(page, name, "07-online-sheet-saved")
    _close_sheet(page, 5)

    # Submit: the confirmation names the unanswered question.
    tid(page, "quiz-submit").click()
    expect(tid(page, "submit-unanswered")).to_be_visible()
    assert 6 in numbers_in(tid(page, "submit-unanswered").inner_text())
    shot(page, name, "08-submit-confirm")
    tid(page, "submit-confirm").click()

    expect(tid(page, "result-score")).to_be_visible()
    result = api.attempt(attempt_id)["result"]
    assert result is not None and result["finish_reason"] == "submitted"
    assert result["score"] in numbers_in(tid(page, "result-score").inner_text())
    expect(tid(page, "result-passed")).to_have_attribute("data-passed", str(result["passed"]).lower())
    expect(tid(page, "result-finished-by-server")).to_have_count(0)
    for position in range(1, 7):
        expect(tid(page, f"review-item-{position}")).to_be_attached()
    shot(page, name, "09-result")
    api.close()


def test_deadline_with_page_closed(page: Page, context: BrowserContext, running_app: RunningApp) -> None:
    name = "deadline"
    base, seed = running_app.base_url, running_app.seed
    quiz_id, username = seed.short_quiz_id, seed.officers["deadline"]
    api = OfficerApi(base, username)

    login(page, base, username)
    attempt_id, items = _start(page, api, quiz_id)
    go_to_position(page, 1)
    answer = answer_item(page, items[0])
    _wait_stored(api, attempt_id, [answer], timeout=10)
    shot(page, name, "01-answered")
    quiz_url = page.url
    left = _seconds_left(api.attempt(attempt_id))
    page.close()

    # Nobody comes back: the server finishes the attempt on its own.
    time.sleep(max(0.0, left) + SAVE_GRACE_SECONDS + SWEEP_INTERVAL_SECONDS + 1)
    wait_for(
        "the server to finish the attempt",
        lambda: api.attempt(attempt_id)["status"] == "finished",
        timeout=10,
    )
    result = api.attempt(attempt_id)["result"]
    assert result is not None and result["finish_reason"] == "timeout"
    first = next(item for item in result["items"] if item["position"] == 1)
    assert stored_matches(first, answer), "the acknowledged answer was not counted"

    again = context.new_page()
    again.goto(quiz_url)
    expect(tid(again, "result-finished-by-server")).to_be_visible()
    expect(tid(again, "result-score")).to_be_visible()
    assert result["score"] in numbers_in(tid(again, "result-score").inner_text())
    shot(again, name, "02-result-by-server")
    api.close()


def test_first_login_forces_password_change(page: Page, running_app: RunningApp) -> None:
    name = "first_login"
    base, seed = running_app.base_url, running_app.seed
    username = seed.officers["first_login"]
    new_password = "Zhengfa-2026-xin"

    login(page, base, username)
    expect(tid(page, "password-current")).to_be_visible()
    shot(page, name, "01-change-password")
    # The home screen cannot be reached around it.
    page.goto(base + "/")
    expect(tid(page, "password-current")).to_be_visible()
    expect(tid(page, f"home-quiz-{seed.main_quiz_id}")).to_have_count(0)

    fill(tid(page, "password-current"), PASSWORD)
    fill(tid(page, "password-new"), new_password)
    tid(page, "password-submit").click()
    expect(tid(page, f"home-quiz-{seed.main_quiz_id}")).to_be_visible()
    expect(tid(page, "nav-home")).to_be_in_viewport()
    shot(page, name, "02-home")

    answer = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": new_password}, timeout=15
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["must_change_password"] is False


def test_login_error(page: Page, running_app: RunningApp) -> None:
    login(page, running_app.base_url, "nobody-here", "wrong-password-1")
    expect(tid(page, "login-error")).to_be_visible()
    expect(tid(page, "login-error")).not_to_have_text("")
    expect(tid(page, "login-submit")).to_be_enabled()
    shot(page, "login_error", "01-wrong-password")
