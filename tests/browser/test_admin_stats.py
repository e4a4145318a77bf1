"""Statistics in the admin area: a county with two departments whose officers took a quiz of its
own (through the API, as officers do); the administrator's dashboard shows the API's figures,
drills down into the county and opens the A4 acceptance report, which renders its charts and
prints to a PDF of at most four A4 pages; the county's unit admin reaches only that subtree."""

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import FAILED_KEY
from tests.browser.harness import PASSWORD, RunningApp
from tests.browser.ui import ARTIFACTS, UI_TIMEOUT_MS, OfficerApi, login, numbers_in, shot, tid

DESKTOP = {
    "viewport": {"width": 1280, "height": 900},
    "device_scale_factor": 1,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
CITY = "浏览器测试市"
COUNTY = "统计测试县"
COURT = "统计测试县人民法院"
PROCURATORATE = "统计测试县人民检察院"
QUIZ_TITLE = "浏览器测试：统计专用测试"
UNIT_ADMIN = "stats-unitadmin"
# (username, department, takes the quiz): 3 of 4 in the court and 1 of 2 in the procuratorate.
OFFICERS = [
    ("stats01", COURT, True),
    ("stats02", COURT, True),
    ("stats03", COURT, True),
    ("stats04", COURT, False),
    ("stats05", PROCURATORATE, True),
    ("stats06", PROCURATORATE, False),
]
# Summary cards checked against the API: (test id suffix, UnitFigures field).
FIGURES = (("participation", "participation_percent"), ("mean", "mean_percent"), ("roster", "roster"))
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
# Every page's size in points: A4 is 595.3 x 841.9.
PDF_MEDIA_BOX = re.compile(r"/MediaBox\s*\[\s*([-\d.]+\s+[-\d.]+\s+[-\d.]+\s+[-\d.]+)\s*\]")


@pytest.fixture
def desktop(browser: Browser, running_app: RunningApp, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A desktop-sized page (the admin area is for desktops); a picture of it when the test fails."""
    context = browser.new_context(**DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    if FAILED_KEY in request.node.stash:
        with contextlib.suppress(PlaywrightError):
            shot(page, request.node.name, "failure")
    if errors:
        print(f"JavaScript errors during {request.node.name}:", *errors, sep="\n  ")
    context.close()


def _created(answer: Any) -> dict[str, Any]:
    assert answer.status_code in (200, 201), answer.text
    body: dict[str, Any] = answer.json()
    return body


def _unit(admin: OfficerApi, code: str, name: str, parent_id: int) -> dict[str, Any]:
    return _created(admin.http.post("/units", json={"code": code, "name": name, "parent_id": parent_id}))


def _seed_county(admin: OfficerApi) -> dict[str, Any]:
    """The county, its departments, officers, a unit admin and a published quiz for the county."""
    city = next(u for u in admin.get("/units") if u["name"] == CITY)
    county = _unit(admin, "ST-CTY", COUNTY, city["id"])
    departments = {
        name: _unit(admin, code, name, county["id"])
        for code, name in (("ST-COURT", COURT), ("ST-PROC", PROCURATORATE))
    }
    for n, (username, unit, _) in enumerate(OFFICERS, start=1):
        _created(
            admin.http.post(
                "/users",
                json={
                    "police_number": username,
                    "name": f"统计干警{n}",
                    "role": "officer",
                    "unit_id": departments[unit]["id"],
                    "password": PASSWORD,
                    "must_change_password": False,
                },
            )
        )
    _created(
        admin.http.post(
            "/users",
            json={
                "username": UNIT_ADMIN,
                "name": "统计县管理员",
                "role": "unit_admin",
                "unit_id": county["id"],
                "password": PASSWORD,
                "must_change_password": False,
            },
        )
    )
    now = datetime.now(UTC)
    quiz = _created(
        admin.http.post(
            "/quizzes",
            json={
                "title": QUIZ_TITLE,
                "time_limit_seconds": 600,
                "opens_at": (now - timedelta(hours=1)).isoformat(),
                "closes_at": (now + timedelta(days=1)).isoformat(),
                "attempts_allowed": 1,
                "pass_percent": 60,
                "rules": [
                    {"question_type": "single", "count": 3, "points": 2},
                    {"question_type": "true_false", "count": 3, "points": 1},
                ],
                "targets": [{"unit_id": county["id"], "include_subunits": True}],
            },
        )
    )
    _created(admin.http.post(f"/quizzes/{quiz['id']}/publish"))
    return {"city": city, "county": county, "departments": departments, "quiz": quiz}


def _take_quiz(base_url: str, username: str, quiz_id: int, variant: int) -> None:
    """Start, answer every item (a different choice per officer, so the scores differ), submit."""
    officer = OfficerApi(base_url, username)
    try:
        attempt = _created(officer.http.post(f"/quizzes/{quiz_id}/attempts"))
        for n, item in enumerate(attempt["items"]):
            if item["type"] == "true_false":
                response: Any = (variant + n) % 2 == 0
            else:
                options = item["options"]
                response = options[(variant + n) % len(options)]["id"]
            saved = officer.http.put(
                f"/attempts/{attempt['id']}/items/{item['id']}", json={"response": response, "seq": 1}
            )
            assert saved.status_code == 200, saved.text
        _created(officer.http.post(f"/attempts/{attempt['id']}/submit"))
    finally:
        officer.close()


def _shown_percent(locator: Locator) -> float | None:
    """The percentage a figure shows ("66.7%"), None for the dash of a missing figure."""
    text = locator.locator("b").inner_text()
    numbers = numbers_in(text)
    return numbers[0] if numbers else None


def _assert_figures(page: Page, prefix: str, figures: dict[str, Any]) -> None:
    """Participation and mean on screen are the API's: the exact value behind, one decimal shown."""
    for key, field in FIGURES:
        card = tid(page, f"{prefix}-{key}")
        expect(card).to_be_visible()
        value = figures[field]
        behind = card.get_attribute("data-value")
        assert (float(behind) if behind else None) == value, (key, behind, value)
        if key == "roster":
            assert numbers_in(card.locator("b").inner_text().replace(",", "")) == [value]
            continue
        shown = _shown_percent(card)
        assert shown is not None and value is not None, (key, shown, value)
        assert abs(shown - value) <= 0.05 + 1e-9, (key, shown, value)


def _pdf_pages(pdf: bytes) -> int:
    return len(PDF_PAGE.findall(pdf))


def test_admin_stats(desktop: Page, running_app: RunningApp) -> None:
    name = "admin_stats"
    page, base = desktop, running_app.base_url
    admin = OfficerApi(base, running_app.seed.admin)
    world = _seed_county(admin)
    city, county, quiz = world["city"], world["county"], world["quiz"]
    court = world["departments"][COURT]
    takers = [username for username, _, takes in OFFICERS if takes]
    for variant, username in enumerate(takers):
        _take_quiz(base, username, quiz["id"], variant)
    selection = f"quiz_id={quiz['id']}"
    city_report = admin.get(f"/stats/units/{city['id']}/report?{selection}")
    county_report = admin.get(f"/stats/units/{county['id']}/report?{selection}")
    # The world as built: 4 of the county's 6 officers took part, all of them scored.
    assert (county_report["summary"]["roster"], county_report["summary"]["participants"]) == (6, 4)
    assert county_report["summary"]["scored"] == 4
    assert county_report["summary"]["small_sample"] is True

    # The administrator: statistics from the admin area's navigation; the quiz chosen in the bar.
    login(page, base, running_app.seed.admin)
    expect(tid(page, "home-admin")).to_be_visible()
    tid(page, "home-admin").click()
    tid(page, "admin-nav-stats").click()
    expect(tid(page, "stats-dashboard")).to_be_visible()
    expect(tid(page, f"stats-quiz-{quiz['id']}")).to_be_visible()
    for box in page.locator("[data-testid^='stats-quiz-']").all():
        box.set_checked(box.get_attribute("data-testid") == f"stats-quiz-{quiz['id']}")
    tid(page, "stats-apply").click()
    page.wait_for_url(re.compile(rf"/admin/stats\?quiz_id={quiz['id']}$"))
    expect(tid(page, "stats-head")).to_have_attribute("data-unit-id", str(city["id"]))
    _assert_figures(page, "stats-summary", city_report["summary"])
    county_row = tid(page, f"stats-unit-row-{county['id']}")
    expect(county_row).to_contain_text(COUNTY)
    shown = numbers_in(county_row.get_by_test_id("stats-cell-participation").inner_text())
    assert shown and abs(shown[0] - county_report["summary"]["participation_percent"]) <= 0.05
    expect(tid(page, "stats-bars-chart").locator("canvas")).to_have_count(1)
    expect(tid(page, "stats-bars-chart")).to_have_attribute("data-rendered", "true")
    expect(tid(page, "stats-spot-sessions")).to_be_visible()
    shot(page, name, "01-city")

    # Drill down into the county: its own figures, its two departments, the breadcrumb back up.
    tid(page, f"stats-drill-{county['id']}").click()
    page.wait_for_url(re.compile(rf"/admin/stats/{county['id']}\?quiz_id={quiz['id']}$"))
    expect(tid(page, "stats-head")).to_have_attribute("data-unit-id", str(county["id"]))
    _assert_figures(page, "stats-summary", county_report["summary"])
    expect(tid(page, "stats-summary-small-sample")).to_be_visible()
    for department in world["departments"].values():
        expect(tid(page, f"stats-unit-row-{department['id']}")).to_be_visible()
    court_figures = next(c for c in county_report["children"] if c["unit_id"] == court["id"])
    assert (court_figures["roster"], court_figures["participants"]) == (4, 3)
    expect(tid(page, f"stats-crumb-{city['id']}")).to_be_visible()
    expect(tid(page, "stats-people-table")).to_contain_text("统计干警4")
    expect(tid(page, "stats-people-table")).to_contain_text("统计干警6")
    expect(page.locator("[data-testid^='stats-person-']")).to_have_count(2)
    # Exports: the whole report as xlsx, a table as CSV (UTF-8 with BOM for Excel).
    with page.expect_download() as xlsx:
        tid(page, "stats-export-xlsx").click()
    assert xlsx.value.suggested_filename.endswith(".xlsx"), xlsx.value.suggested_filename
    assert Path(xlsx.value.path()).read_bytes()[:2] == b"PK"  # a zip: an Office file
    with page.expect_download() as csv:
        tid(page, "stats-units-csv").click()
    assert csv.value.suggested_filename.endswith(".csv"), csv.value.suggested_filename
    table = Path(csv.value.path()).read_bytes().decode("utf-8")
    assert table.startswith("\ufeff") and COURT in table and PROCURATORATE in table, table[:200]
    # Item analysis of the quiz in the county: every question, flagged as the API says, linked to the bank.
    items = admin.get(f"/stats/quizzes/{quiz['id']}/item-analysis?unit_id={county['id']}")
    tid(page, f"stats-item-analysis-{quiz['id']}").click()
    expect(tid(page, "item-analysis-scope")).to_contain_text(COUNTY)
    expect(page.locator("[data-testid^='item-analysis-q-']")).to_have_count(len(items["questions"]))
    for question in items["questions"][:3]:
        row = tid(page, f"item-analysis-q-{question['question_id']}")
        expect(row).to_have_attribute("data-flags", " ".join(question["flags"]))
        expect(row.get_by_test_id(f"item-analysis-link-{question['question_id']}")).to_have_attribute(
            "href", f"/admin/questions/{question['question_id']}"
        )
    shot(page, name, "02b-item-analysis")
    page.go_back()
    expect(tid(page, "stats-head")).to_have_attribute("data-unit-id", str(county["id"]))
    # Every chart's figures are also a table.
    tid(page, "stats-bars-view-table").click()
    expect(tid(page, "stats-bars-table")).to_contain_text(COURT)
    tid(page, "stats-heat-view-table").click()
    expect(tid(page, "stats-matrix-table")).to_be_visible()
    shot(page, name, "02-county")

    # The A4 report of the county: figures, charts drawn (SVG), printed to a PDF.
    tid(page, "stats-open-report").click()
    page.wait_for_url(re.compile(rf"/admin/report/{county['id']}\?quiz_id={quiz['id']}$"))
    expect(tid(page, "report-page")).to_have_attribute("data-ready", "true")
    expect(tid(page, "report-title")).to_contain_text(COUNTY)
    expect(tid(page, "report-scope")).to_contain_text(COUNTY)
    _assert_figures(page, "report-summary", county_report["summary"])
    expect(tid(page, "report-units-table")).to_contain_text(PROCURATORATE)
    for chart in ("report-chart-units", "report-chart-areas"):
        expect(tid(page, chart).locator("svg")).to_have_count(1)
        expect(tid(page, chart).locator("svg rect, svg path").first).to_be_attached()
    expect(tid(page, "report-spot-sessions")).to_be_visible()
    if not county_report["spot_sessions"]:
        expect(tid(page, "report-spot-sessions-empty")).to_contain_text("无现场抽查记录")
    expect(tid(page, "report-signatures")).to_be_visible()
    expect(tid(page, "report-print")).to_be_enabled()
    shot(page, name, "03-report")

    # Printed: no navigation chrome, the sheet fills the page; at most four A4 pages.
    page.emulate_media(media="print")
    expect(tid(page, "admin-layout").locator("nav.adm-nav")).to_be_hidden()
    expect(tid(page, "report-print")).to_be_hidden()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf_path = ARTIFACTS / f"{name}-report.pdf"
    pdf = page.pdf(path=str(pdf_path), format="A4", prefer_css_page_size=True)
    assert pdf[:5] == b"%PDF-"
    pages = _pdf_pages(pdf)
    assert 1 <= pages <= 4, f"the report printed on {pages} A4 pages ({pdf_path})"
    boxes = [[float(n) for n in box.split()] for box in PDF_MEDIA_BOX.findall(pdf.decode("latin-1"))]
    assert boxes and all(abs(w - 595.3) < 1.5 and abs(h - 841.9) < 1.5 for _, _, w, h in boxes), boxes
    # A picture of the printed layout: the page as wide as A4's text (210 - 2 x 15 mm at 96 px per inch).
    page.set_viewport_size({"width": round(180 / 25.4 * 96), "height": 1000})
    shot(page, name, "04-report-print")
    page.set_viewport_size(DESKTOP["viewport"])  # type: ignore[arg-type]
    page.emulate_media(media="screen")
    admin.close()

    # The county's unit admin: starts at the county; the city is neither shown nor reachable.
    unit_admin = OfficerApi(base, UNIT_ADMIN)
    refused = unit_admin.http.get(f"/stats/units/{city['id']}/report?{selection}")
    assert refused.status_code == 404, refused.text
    page.context.clear_cookies()
    page.evaluate("localStorage.clear()")
    login(page, base, UNIT_ADMIN)
    expect(tid(page, "home-admin")).to_be_visible()
    tid(page, "home-admin").click()
    tid(page, "admin-nav-stats").click()
    expect(tid(page, "stats-head")).to_have_attribute("data-unit-id", str(county["id"]))
    seen_by_unit_admin = unit_admin.get(f"/stats/units/{county['id']}/report?{selection}")
    _assert_figures(page, "stats-summary", seen_by_unit_admin["summary"])
    expect(tid(page, "stats-breadcrumb")).to_have_text(COUNTY)
    expect(tid(page, f"stats-crumb-{city['id']}")).to_have_count(0)
    tid(page, f"stats-drill-{court['id']}").click()
    expect(tid(page, "stats-head")).to_have_attribute("data-unit-id", str(court["id"]))
    expect(tid(page, f"stats-crumb-{county['id']}")).to_be_visible()
    page.goto(f"{base}/admin/stats/{city['id']}?{selection}")
    expect(tid(page, "stats-error")).to_have_attribute("data-code", "unit_not_found")
    expect(tid(page, "stats-summary-participation")).to_have_count(0)
    page.goto(f"{base}/admin/report/{city['id']}?{selection}")
    expect(tid(page, "report-error")).to_have_attribute("data-code", "unit_not_found")
    expect(tid(page, "report-paper")).to_have_count(0)
    shot(page, name, "05-unit-admin-refused")
    unit_admin.close()
