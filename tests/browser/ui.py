"""What the browser tests share: the officer's API client, screenshots, and driving the quiz screen.

Only the data-testid attributes of the contract are used, never texts or CSS classes, so that
the tests survive restyling and translation.
"""

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.harness import PASSWORD, PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts" / "browser"
API = "/api/v1"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
# Generous: the page may wait for a lazily loaded screen on a loaded CI machine.
UI_TIMEOUT_MS = 15_000


def shot(page: Page, test: str, step: str) -> Path:
    """A full-page screenshot tests/artifacts/browser/<test>-<step>.png for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{test}-{step}.png"
    settle(page)
    page.screenshot(path=str(path), full_page=True)
    return path


def settle(page: Page) -> None:
    """Wait (at most 5 s) until finite CSS transitions and animations end: sheets slid in, colours set."""
    with contextlib.suppress(PlaywrightTimeoutError):  # never a reason to fail on its own
        page.wait_for_function(
            "() => document.getAnimations().every(a => a.playState !== 'running' || a.effect?.getTiming"
            "().iterations === Infinity)",
            timeout=5000,
        )


def tid(page: Page, name: str) -> Locator:
    return page.get_by_test_id(name)


class OfficerApi:
    """The officer's own view of the API, to learn ids and to check what the server stored."""

    def __init__(self, base_url: str, username: str, password: str = PASSWORD) -> None:
        self.http = httpx.Client(base_url=base_url + API, timeout=15)
        answer = self.http.post("/auth/login", json={"username": username, "password": password})
        answer.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def get(self, path: str) -> Any:
        answer = self.http.get(path)
        answer.raise_for_status()
        return answer.json()

    def my_quiz(self, quiz_id: int) -> dict[str, Any]:
        quizzes: list[dict[str, Any]] = self.get("/me/quizzes")
        return next(q for q in quizzes if q["id"] == quiz_id)

    def attempt(self, attempt_id: int) -> dict[str, Any]:
        attempt: dict[str, Any] = self.get(f"/attempts/{attempt_id}")
        return attempt

    def close(self) -> None:
        self.http.close()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 15, interval: float = 0.25) -> None:
    end = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def login(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base_url + "/")
    fill(tid(page, "login-username"), username)
    fill(tid(page, "login-password"), password)
    tid(page, "login-submit").click()


def field_input(locator: Locator) -> Locator:
    """The <input>/<textarea> itself, whether the test id sits on it or on a Vant field around it."""
    return locator.locator("xpath=self::input | self::textarea | .//input | .//textarea").first


def fill(locator: Locator, text: str) -> None:
    field_input(locator).fill(text)


def is_selected(locator: Locator) -> bool:
    """True when a choice control (or a descendant: Vant puts the state on inner nodes) is chosen."""
    selected: bool = locator.evaluate(
        """el => {
            const nodes = [el, ...el.querySelectorAll('*')];
            return nodes.some(n =>
                n.getAttribute('aria-checked') === 'true' ||
                n.getAttribute('aria-pressed') === 'true' ||
                n.getAttribute('aria-selected') === 'true' ||
                n.getAttribute('data-selected') === 'true' ||
                n.getAttribute('data-checked') === 'true' ||
                (n instanceof HTMLInputElement && n.checked) ||
                /(^|[-_\\s])(checked|selected)(\\b|$)/.test(n.className && n.className.baseVal === undefined
                    ? n.className : ''));
        }"""
    )
    return selected


def countdown_seconds(page: Page) -> int:
    """The quiz countdown as seconds: reads [h:]mm:ss."""
    text = tid(page, "quiz-countdown").inner_text()
    match = re.search(r"(?:(\d+):)?(\d{1,2}):(\d{2})", text)
    assert match, f"cannot read a time in the countdown {text!r}"
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)


def current_position(page: Page) -> int:
    text = tid(page, "question-position").inner_text()
    match = re.search(r"\d+", text)
    assert match, f"no number in question-position {text!r}"
    return int(match.group())


def go_to_position(page: Page, position: int) -> None:
    """Move with quiz-next/quiz-prev until question-position shows `position`."""
    for _ in range(100):
        here = current_position(page)
        if here == position:
            return
        tid(page, "quiz-next" if here < position else "quiz-prev").click()
        expect(tid(page, "question-position")).not_to_have_text(re.compile(rf"^\D*{here}\b"))
    raise AssertionError(f"could not reach question {position}")


@dataclass
class Answer:
    position: int
    item_id: int
    response: Any  # what the server must store, in the contract's shapes


def answer_item(page: Page, item: dict[str, Any], variant: int = 0) -> Answer:
    """Answer the question on screen (it must be `item`) through the UI, whatever its type."""
    expect(tid(page, "question-stem")).to_have_text(item["stem"])  # the screen shows this very item
    kind = item["type"]
    options = item["options"]
    response: Any
    if kind == "single":
        option = options[variant % len(options)]
        tid(page, f"option-{option['id']}").click()
        response = option["id"]
    elif kind == "multiple":
        chosen = [options[variant % len(options)], options[(variant + 1) % len(options)]]
        for option in chosen:
            tid(page, f"option-{option['id']}").click()
        response = sorted(o["id"] for o in chosen)
    elif kind == "true_false":
        value = variant % 2 == 0
        tid(page, "tf-true" if value else "tf-false").click()
        response = value
    elif kind == "fill_blank":
        blanks = page.locator("[data-testid^='blank-']")
        expect(blanks.first).to_be_visible()
        count = blanks.count()
        assert count == item["blanks"], f"{count} blank inputs on screen, the item has {item['blanks']}"
        texts = [f"答案{item['position']}-{n + 1}" for n in range(count)]
        for n, text in enumerate(texts):
            fill(blanks.nth(n), text)
        # Typing may be saved on blur or after a pause: leave the field.
        field_input(blanks.nth(count - 1)).blur()
        response = texts
    else:
        raise AssertionError(f"unknown question type {kind!r}")
    return Answer(item["position"], item["id"], response)


def assert_unmarked(page: Page, item: dict[str, Any]) -> None:
    """Before an answer, no choice on screen looks different from the others (none looks chosen
    or marked as right: nothing during a quiz may hint at the key)."""
    if item["type"] in ("single", "multiple"):
        controls = [tid(page, f"option-{o['id']}") for o in item["options"]]
    elif item["type"] == "true_false":
        controls = [tid(page, "tf-true"), tid(page, "tf-false")]
    else:
        return
    looks = [
        c.evaluate(
            "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.borderColor, s.color]; }"
        )
        for c in controls
    ]
    assert all(look == looks[0] for look in looks), (
        f"question {item['position']} ({item['type']}) is unanswered but its choices look different: {looks}"
    )
    assert not any(is_selected(c) for c in controls), f"question {item['position']} shows a choice as made"


def stored_matches(item: dict[str, Any], answer: Answer) -> bool:
    stored = item.get("response")
    if item["type"] == "multiple" and isinstance(stored, list):
        return bool(sorted(stored) == answer.response)
    if item["type"] == "fill_blank" and isinstance(stored, list):
        return bool([str(s).strip() for s in stored] == answer.response)
    return bool(stored == answer.response)


def shows_answer(page: Page, item: dict[str, Any], answer: Answer) -> bool:
    """The screen (on that question) shows the given answer as chosen/typed."""
    kind = item["type"]
    if kind == "single":
        return is_selected(tid(page, f"option-{answer.response}"))
    if kind == "multiple":
        chosen = set(answer.response)
        return all(
            is_selected(tid(page, f"option-{o['id']}")) == (o["id"] in chosen) for o in item["options"]
        )
    if kind == "true_false":
        yes = is_selected(tid(page, "tf-true"))
        no = is_selected(tid(page, "tf-false"))
        return (yes, no) == ((True, False) if answer.response else (False, True))
    blanks = page.locator("[data-testid^='blank-']")
    return bool([field_input(blanks.nth(n)).input_value() for n in range(blanks.count())] == answer.response)


def numbers_in(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]


def cjk_in(text: str) -> list[str]:
    return CJK.findall(text)
