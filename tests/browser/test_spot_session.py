"""A whole phone-mode spot session in real browsers: one inspector at a desktop and three officers on
phones, each in a browser context of their own.

The inspector creates the session for a unit of exactly three officers (draw three), sees the code,
the QR code and the seed commitment, draws and verifies the draw; the officers open the QR code's
link (logged out: login first, then back to the session), answer on the ordinary quiz screens, one
reloads mid-session and goes on with the same attempt and the answers kept, another reopens the
link and lands on the same attempt, a second phone of an officer is refused; the board shows joins
and progress; the inspector closes, sees the results and the audit log, and makes a reasoned
override.
"""

import contextlib
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocketRoute, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import FAILED_KEY, PHONE
from tests.browser.harness import PASSWORD, RunningApp
from tests.browser.ui import (
    UI_TIMEOUT_MS,
    Answer,
    OfficerApi,
    answer_item,
    fill,
    go_to_position,
    login,
    shot,
    shows_answer,
    stored_matches,
    tid,
    wait_for,
)

NAME = "spot_session"
DESKTOP = {
    "viewport": {"width": 1280, "height": 900},
    "device_scale_factor": 1,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
CITY = "浏览器测试市"
UNIT = "浏览器抽测派出所"
INSPECTOR = "spot-inspector"
OFFICERS = [("SPOT001", "抽测甲"), ("SPOT002", "抽测乙"), ("SPOT003", "抽测丙")]
TITLE = "浏览器测试现场抽测"
# Two single-choice questions and one true/false per officer.
QUESTIONS = 3
HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def contexts(
    browser: Browser, running_app: RunningApp, request: pytest.FixtureRequest
) -> Iterator[list[BrowserContext]]:
    """Browser contexts made by the test (desktop or phone); pictures of their pages when it fails."""
    made: list[BrowserContext] = []
    yield made
    for n, context in enumerate(made):
        for m, page in enumerate(context.pages):
            if FAILED_KEY in request.node.stash:
                with contextlib.suppress(PlaywrightError):
                    shot(page, request.node.name, f"failure-{n + 1}-{m + 1}")
        with contextlib.suppress(PlaywrightError):
            context.close()


def _open(browser: Browser, contexts: list[BrowserContext], options: dict[str, Any]) -> Page:
    context = browser.new_context(**options)
    context.set_default_timeout(UI_TIMEOUT_MS)
    contexts.append(context)
    page = context.new_page()
    page.on("pageerror", lambda exc: print("JavaScript error:", exc))
    return page


def _created(answer: Any) -> dict[str, Any]:
    assert answer.status_code in (200, 201), answer.text
    body: dict[str, Any] = answer.json()
    return body


def _seed_unit(admin: OfficerApi) -> dict[str, Any]:
    """A unit with exactly three officers, and an inspector over the city."""
    city = next(u for u in admin.get("/units") if u["name"] == CITY)
    unit = _created(
        admin.http.post("/units", json={"code": "BT-SPOT", "name": UNIT, "parent_id": city["id"]})
    )
    people = [
        {"username": INSPECTOR, "name": "抽测检查员", "role": "inspector", "unit_id": city["id"]},
        *(
            {"police_number": number, "name": name, "role": "officer", "unit_id": unit["id"]}
            for number, name in OFFICERS
        ),
    ]
    for person in people:
        _created(
            admin.http.post("/users", json={**person, "password": PASSWORD, "must_change_password": False})
        )
    return unit


def _items(attempt: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(attempt["items"], key=lambda item: item["position"])


def _attempt_id(page: Page) -> int:
    page.wait_for_url(re.compile(r"/attempt/\d+$"))
    match = re.search(r"/attempt/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def _join_by_link(page: Page, join_url: str, username: str) -> None:
    """Open the QR code's link logged out: the login comes first, then the session."""
    page.goto(join_url)
    expect(tid(page, "login-username")).to_be_visible()
    assert "redirect=" in page.url, f"the login lost the way back to the session: {page.url}"
    fill(tid(page, "login-username"), username)
    fill(tid(page, "login-password"), PASSWORD)
    tid(page, "login-submit").click()
    expect(tid(page, "question-stem")).to_be_visible()


def _answer(page: Page, item: dict[str, Any], variant: int) -> Answer:
    go_to_position(page, item["position"])
    return answer_item(page, item, variant)


def _wait_stored(api: OfficerApi, attempt_id: int, answers: list[Answer]) -> None:
    def stored() -> bool:
        items = {item["id"]: item for item in api.attempt(attempt_id)["items"]}
        return all(stored_matches(items[a.item_id], a) for a in answers)

    wait_for(f"answers {[a.position for a in answers]} stored", stored, timeout=20)


def _submit(page: Page) -> None:
    tid(page, "quiz-submit").click()
    tid(page, "submit-confirm").click()
    expect(tid(page, "result-score")).to_be_visible()


def _count(page: Page, name: str, value: int) -> None:
    expect(tid(page, f"spot-count-{name}")).to_have_attribute("data-value", str(value))


def _progress(page: Page, number: str, answered: int, total: int = QUESTIONS) -> None:
    progress = tid(page, f"spot-progress-{number}")
    expect(progress).to_have_attribute("data-answered", str(answered))
    expect(progress).to_have_attribute("data-total", str(total))


def test_spot_session(browser: Browser, contexts: list[BrowserContext], running_app: RunningApp) -> None:
    base = running_app.base_url
    admin = OfficerApi(base, running_app.seed.admin)
    unit = _seed_unit(admin)
    inspector_api = OfficerApi(base, INSPECTOR)

    # The inspector, at a desktop: from home to a new session.
    desk = _open(browser, contexts, DESKTOP)
    login(desk, base, INSPECTOR)
    tid(desk, "home-inspect").click()
    expect(tid(desk, "inspect-layout")).to_be_visible()
    expect(tid(desk, "spot-list-empty")).to_be_visible()
    tid(desk, "inspect-new").click()
    expect(tid(desk, "spot-create")).to_be_visible()
    fill(tid(desk, "spot-title"), TITLE)
    tid(desk, "spot-unit").select_option(str(unit["id"]))
    expect(tid(desk, "spot-roster-estimate")).to_contain_text("3")
    tid(desk, "spot-mode-phone").click()
    tid(desk, "spot-draw-some").check()
    fill(tid(desk, "spot-draw-count"), "3")
    tid(desk, "spot-rule-type-0").select_option("single")
    fill(tid(desk, "spot-rule-count-0"), "2")
    tid(desk, "spot-rule-add").click()
    tid(desk, "spot-rule-type-1").select_option("true_false")
    fill(tid(desk, "spot-rule-count-1"), "1")
    expect(tid(desk, "spot-question-total")).to_contain_text(str(QUESTIONS))
    tid(desk, "spot-limit-session").click()
    fill(tid(desk, "spot-session-minutes"), "15")
    shot(desk, NAME, "01-create")
    tid(desk, "spot-create-submit").click()

    # The lobby: code, QR code of the absolute join link, commitment and roster hash before the draw.
    desk.wait_for_url(re.compile(r"/inspect/sessions/\d+$"))
    spot_id = int(desk.url.rsplit("/", 1)[1])
    session = tid(desk, "spot-session")
    expect(session).to_have_attribute("data-status", "lobby")
    code = tid(desk, "spot-code").get_attribute("data-code") or ""
    assert re.fullmatch(r"\d{6}", code), f"the join code on screen is {code!r}"
    qr = tid(desk, "spot-qr")
    expect(qr).to_have_attribute("data-ready", "true")
    join_url = qr.get_attribute("data-url") or ""
    assert join_url == f"{base}/spot/join?code={code}", join_url
    assert qr.locator("svg path").count() == 2, "the QR code is not drawn"
    expect(tid(desk, "spot-join-url")).to_have_text(join_url)
    commitment = tid(desk, "spot-commitment").get_attribute("data-value") or ""
    roster_hash = tid(desk, "spot-roster-hash").get_attribute("data-value") or ""
    assert HEX64.match(commitment) and HEX64.match(roster_hash)
    expect(tid(desk, "spot-roster-size")).to_have_attribute("data-value", "3")
    expect(tid(desk, "spot-seed")).to_have_count(0)
    stored = inspector_api.get(f"/spot/sessions/{spot_id}")
    assert (stored["code"], stored["seed_commitment"], stored["roster_hash"]) == (
        code,
        commitment,
        roster_hash,
    )
    assert stored["seed"] is None and stored["status"] == "lobby"
    shot(desk, NAME, "02-lobby")
    tid(desk, "spot-projector-open").click()
    expect(tid(desk, "spot-projector")).to_be_visible()
    expect(tid(desk, "spot-projector-qr")).to_have_attribute("data-url", join_url)
    expect(tid(desk, "spot-projector-qr")).to_have_attribute("data-ready", "true")
    projected = tid(desk, "spot-projector-qr").bounding_box()
    assert projected and projected["width"] >= 400, f"the projector's QR code is small: {projected}"
    shot(desk, NAME, "03-projector")
    tid(desk, "spot-projector-close").click()
    expect(tid(desk, "spot-projector")).to_have_count(0)

    # An officer who comes too early is told to wait (and the page keeps asking by itself).
    early = _open(browser, contexts, PHONE)
    login(early, base, OFFICERS[0][0])
    expect(tid(early, "home-spot-join")).to_be_visible()
    early.goto(join_url)
    expect(tid(early, "spot-join-error")).to_have_attribute("data-code", "spot_not_started")
    expect(tid(early, "spot-join-retrying")).to_be_visible()
    shot(early, NAME, "04-officer-too-early")

    # The draw: three of three, the seed revealed and matching the commitment, verified.
    tid(desk, "spot-draw").click()
    tid(desk, "confirm-ok").click()
    expect(session).to_have_attribute("data-status", "running")
    seed = tid(desk, "spot-seed").get_attribute("data-value") or ""
    assert HEX64.match(seed), seed
    assert hashlib.sha256(seed.encode()).hexdigest() == commitment, "the revealed seed does not match"
    drawn = desk.locator("[data-testid^='spot-drawn-SPOT']")
    expect(drawn).to_have_count(3)
    tid(desk, "spot-verify").click()
    expect(tid(desk, "spot-verify-result")).to_have_attribute("data-ok", "true")
    for check in ("seed_commitment", "roster_hash", "drawn"):
        expect(tid(desk, f"spot-check-{check}")).to_have_attribute("data-ok", "true")
    _count(desk, "expected", 3)
    shot(desk, NAME, "05-drawn-verified")

    # The early officer's page joined by itself once the draw was made: the quiz screen.
    expect(tid(early, "question-stem")).to_be_visible(timeout=20_000)

    # The two others, each on a phone of their own, by the QR code's link (logged out first).
    first, second, third = (number for number, _ in OFFICERS)
    phones: dict[str, Page] = {first: early}
    for number in (second, third):
        phones[number] = _open(browser, contexts, PHONE)
        _join_by_link(phones[number], join_url, number)
    apis = {number: OfficerApi(base, number) for number in phones}
    attempts = {number: _attempt_id(phone) for number, phone in phones.items()}
    items = {number: _items(apis[number].attempt(attempts[number])) for number in phones}
    assert all(len(papers) == QUESTIONS for papers in items.values())
    assert len(set(attempts.values())) == 3, f"officers share an attempt: {attempts}"
    _count(desk, "joined", 3)
    for number in attempts:
        _progress(desk, number, 0)
    shot(phones[second], NAME, "06-officer-question")

    # The second officer answers one question, reloads, and goes on with the same attempt.
    kept = [_answer(phones[second], items[second][0], 0)]
    _wait_stored(apis[second], attempts[second], kept)
    _progress(desk, second, 1)
    phones[second].reload()
    expect(tid(phones[second], "question-stem")).to_be_visible()
    assert _attempt_id(phones[second]) == attempts[second]
    go_to_position(phones[second], 1)
    assert shows_answer(phones[second], items[second][0], kept[0]), "the answer is gone after the reload"
    shot(phones[second], NAME, "07-after-reload")
    rest = [_answer(phones[second], item, 1) for item in items[second][1:]]
    _wait_stored(apis[second], attempts[second], kept + rest)
    _progress(desk, second, 3)

    # The third officer answers one, then opens the link again: back on the same attempt.
    one = _answer(phones[third], items[third][0], 1)
    _wait_stored(apis[third], attempts[third], [one])
    phones[third].goto(join_url)
    assert _attempt_id(phones[third]) == attempts[third], "reopening the link started another attempt"
    expect(tid(phones[third], "question-stem")).to_be_visible()
    _progress(desk, third, 1)

    # A second phone of the third officer is refused: one officer, one device.
    other_phone = _open(browser, contexts, PHONE)
    login(other_phone, base, third)
    expect(tid(other_phone, "home-spot-join")).to_be_visible()
    other_phone.goto(join_url)
    expect(tid(other_phone, "spot-join-error")).to_have_attribute("data-code", "spot_other_device")
    shot(other_phone, NAME, "08-second-phone-refused")

    # The first officer answers everything and submits; the board follows.
    done = [_answer(phones[first], item, 0) for item in items[first]]
    _wait_stored(apis[first], attempts[first], done)
    _submit(phones[first])
    shot(phones[first], NAME, "09-officer-result")
    _submit(phones[second])
    _count(desk, "finished", 2)
    _count(desk, "answered", 3 + 3 + 1)
    expect(tid(desk, f"spot-participant-{first}")).to_have_attribute("data-state", "finished")
    expect(tid(desk, f"spot-participant-{third}")).to_have_attribute("data-state", "answering")
    expect(tid(desk, f"spot-score-{first}")).not_to_have_attribute("data-value", "")
    board = inspector_api.get(f"/spot/sessions/{spot_id}/board")
    by_number = {p["police_number"]: p for p in board["participants"]}
    shown = float(tid(desk, f"spot-score-{first}").get_attribute("data-value") or "nan")
    assert shown == by_number[first]["score_percent"], (shown, by_number[first])
    answered = sum(
        int(q.get_attribute("data-answered") or 0)
        for q in desk.locator("[data-testid^='spot-question-']").all()
    )
    assert answered == 7, f"the questions' answered counts add up to {answered}"
    print("live board mode:", tid(desk, "spot-live-mode").get_attribute("data-mode"))
    shot(desk, NAME, "10-live-board")

    # Closing freezes the results: the third officer's paper is finished from what was saved.
    tid(desk, "spot-close").click()
    tid(desk, "confirm-ok").click()
    expect(session).to_have_attribute("data-status", "closed")
    expect(tid(desk, "spot-results")).to_be_visible()
    _count(desk, "finished", 3)
    expect(tid(desk, f"spot-participant-{third}")).to_have_attribute("data-state", "finished")
    assert apis[third].attempt(attempts[third])["status"] == "finished"
    rows = desk.locator("[data-testid='spot-audit-row']")
    expect(rows.last).to_have_attribute("data-action", "closed")
    actions = [row.get_attribute("data-action") for row in rows.all()]
    assert actions[:2] == ["created", "drawn"] and actions.count("joined") == 3 and actions[-1] == "closed", (
        actions
    )
    shot(desk, NAME, "11-results")

    # After closing, a change is an override with a reason (refused without one).
    tid(desk, f"spot-override-excuse-{third}").click()
    tid(desk, "spot-reason-ok").click()
    expect(tid(desk, "spot-reason-problem")).to_be_visible()
    fill(tid(desk, "spot-reason-input"), "当日出警，经评估组核实")
    tid(desk, "spot-reason-ok").click()
    expect(tid(desk, f"spot-participant-{third}")).to_have_attribute("data-state", "excused")
    _count(desk, "excused", 1)
    expect(desk.locator("[data-testid='spot-audit-row'][data-action='override']")).to_have_count(1)
    shot(desk, NAME, "12-override")
    log = inspector_api.get(f"/spot/sessions/{spot_id}/audit")
    override = next(entry for entry in log if entry["action"] == "override")
    assert override["detail"]["reason"] == "当日出警，经评估组核实" and override["actor"] == "抽测检查员"

    # Without the live socket (refused by the network) the board reads itself every 2 s, keeps
    # trying the socket, and goes live again once it gets through.
    second_desk = _open(browser, contexts, DESKTOP)
    attempts_to_connect: list[str] = []
    blocked = True

    def socket_route(ws: WebSocketRoute) -> None:
        attempts_to_connect.append(ws.url)
        if blocked:
            ws.close(code=1011, reason="network down")
        else:
            ws.connect_to_server()

    second_desk.route_web_socket(re.compile(r"/api/v1/spot/sessions/\d+/live$"), socket_route)
    login(second_desk, base, INSPECTOR)
    expect(tid(second_desk, "home-inspect")).to_be_visible()
    second_desk.goto(f"{base}/inspect/sessions/{spot_id}")
    expect(tid(second_desk, f"spot-participant-{third}")).to_have_attribute("data-state", "excused")
    expect(tid(second_desk, "spot-live-mode")).to_have_attribute("data-mode", "polling")
    undo = inspector_api.http.post(
        f"/spot/sessions/{spot_id}/overrides",
        json={
            "kind": "excuse",
            "user_id": by_number[third]["user_id"],
            "excused": False,
            "reason": "核实有误",
        },
    )
    assert undo.status_code == 204, undo.text
    expect(tid(second_desk, f"spot-participant-{third}")).to_have_attribute(
        "data-state", "finished", timeout=6000
    )
    _count(second_desk, "excused", 0)
    wait_for("the board to try the socket again", lambda: len(attempts_to_connect) >= 2, timeout=10)
    assert all(url.startswith(base.replace("http", "ws", 1)) for url in attempts_to_connect), (
        attempts_to_connect
    )
    shot(second_desk, NAME, "13-polling-without-socket")
    blocked = False
    second_desk.evaluate("window.dispatchEvent(new Event('online'))")  # back online: try at once
    expect(tid(second_desk, "spot-live-mode")).to_have_attribute("data-mode", "live")
    for api in (*apis.values(), inspector_api, admin):
        api.close()
