"""The administrator at a desktop: a bank import with errors (seen, then discarded), a good one
committed, the imported question found and edited (version 2), a roster with a new unit committed
(initial passwords shown once, the unit in the tree)."""

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import FAILED_KEY
from tests.browser.harness import RunningApp
from tests.browser.ui import UI_TIMEOUT_MS, OfficerApi, cjk_in, fill, login, shot, tid

DESKTOP = {
    "viewport": {"width": 1280, "height": 800},
    "device_scale_factor": 1,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
BANK_HEADER = "题型,题干,选项A,选项B,选项C,选项D,答案,解析,分值,难度,知识点,标签"
BAD_BANK = "\n".join(
    [
        BANK_HEADER,
        "单选题,浏览器导入：坏文件中的正确题目是哪一项？,甲,乙,丙,丁,B,乙是正确的。,1,2,浏览器测试/导入,",
        "单选题,浏览器导入：答案写成了不存在的选项E,甲,乙,丙,丁,E,,1,2,浏览器测试/导入,",
        "单选题,,甲,乙,丙,丁,A,,1,2,浏览器测试/导入,",
    ]
)
UNIQUE_STEM = "浏览器导入专用题：三个规定要求领导干部干预司法活动应当如何处理？"
GOOD_BANK = "\n".join(
    [
        BANK_HEADER,
        f"单选题,{UNIQUE_STEM},如实记录,口头提醒即可,不予理会,事后补记,A,应当全面、如实记录。,2,3,浏览器测试/导入,",
        "多选题,浏览器导入：下列哪些属于三个规定的内容？,领导干部干预司法活动,司法机关内部人员过问案件,"
        "司法人员与当事人不正当接触,公开审判,ABC,前三项都是三个规定的内容。,2,2,浏览器测试/导入,",
        "判断题,浏览器导入：过问案件的情况应当记录在案。,,,,,正确,全面记录、如实报告。,1,1,浏览器测试/导入,",
    ]
)
BANK_NAME = "浏览器导入测试题库"
NEW_UNIT = "浏览器测试新建派出所"
ROSTER = "\n".join(
    [
        "单位,上级单位,警号,姓名,手机号,角色,状态",
        f"{NEW_UNIT},浏览器测试市,BT900001,周八,13800138001,干警,在职",
        f"{NEW_UNIT},浏览器测试市,BT900002,吴九,,干警,在职",
    ]
)
NEW_EXPLANATION = "浏览器测试修改后的解析：全面记录、如实报告，这是第二版。"
NAVIGATION = (
    "admin-nav-bank-import",
    "admin-nav-bank",
    "admin-nav-roster",
    "admin-nav-units",
    "admin-nav-imports",
)
CJK_TEXT = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def desktop(browser: Browser, running_app: RunningApp, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A desktop-sized page (the admin area is for desktops); pictures of it when the test fails."""
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


def _csv(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def _import_id(page: Page) -> int:
    page.wait_for_url(re.compile(r"/admin/imports/\d+$"))
    match = re.search(r"/admin/imports/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def _background(page: Page, test_id: str) -> str:
    colour: str = tid(page, test_id).evaluate("el => getComputedStyle(el).backgroundColor")
    return colour


def test_admin_imports(desktop: Page, running_app: RunningApp) -> None:
    name = "admin_imports"
    page, base = desktop, running_app.base_url
    admin = running_app.seed.admin
    api = OfficerApi(base, admin)

    # The entry on the home page (staff only) opens the admin area.
    login(page, base, admin)
    expect(tid(page, "home-admin")).to_be_visible()
    tid(page, "home-admin").click()
    expect(tid(page, "admin-layout")).to_be_visible()
    tid(page, "admin-nav-bank-import").click()
    expect(tid(page, "bank-import-submit")).to_be_visible()
    shot(page, name, "01-bank-import")

    # A file refused as a whole (empty): its code and zh-CN message, no preview.
    fill(tid(page, "bank-import-bank-name"), BANK_NAME)
    tid(page, "bank-import-file").set_input_files(_csv("空文件.csv", ""))  # type: ignore[arg-type]
    tid(page, "bank-import-submit").click()
    expect(tid(page, "import-rejection")).to_have_attribute("data-code", "empty_file")
    expect(tid(page, "import-rejection-message")).to_have_text("文件是空的：请检查是否选错了文件。")
    assert api.get("/imports?kind=bank")["total"] == 0, "a refused file left an import job"
    shot(page, name, "01b-rejected")

    # A malformed file: two questions with errors, nothing written, "import all" refused.
    tid(page, "bank-import-file").set_input_files(_csv("坏题库.csv", BAD_BANK))  # type: ignore[arg-type]
    tid(page, "bank-import-submit").click()
    bad_id = _import_id(page)
    expect(tid(page, "preview-status")).to_have_attribute("data-status", "previewed")
    expect(tid(page, "preview-count-errors")).to_contain_text("2")
    expect(tid(page, "preview-count-valid")).to_contain_text("1")
    error_items: list[dict[str, Any]] = api.get(f"/imports/{bad_id}/items?status=error")["items"]
    assert sorted(item["row"] for item in error_items) == [3, 4], error_items
    for item in error_items:
        row = tid(page, f"preview-item-{item['row']}")
        expect(row).to_have_attribute("data-status", "error")
        expect(row.get_by_test_id("preview-item-position")).to_have_text(str(item["row"]))
        assert item["issues"], f"row {item['row']} is an error without an issue"
        for problem in item["issues"]:
            assert cjk_in(problem["message"]), problem
            expect(row).to_contain_text(problem["message"])
        # Highlighted: an error row does not look like the valid row.
        assert _background(page, f"preview-item-{item['row']}") != _background(page, "preview-item-2")
    codes = {problem["code"] for item in error_items for problem in item["issues"]}
    assert {"answer_out_of_range", "empty_stem"} <= codes, codes
    expect(tid(page, "preview-item-2")).to_have_attribute("data-status", "valid")
    expect(tid(page, "preview-commit-all")).to_be_disabled()
    expect(tid(page, "preview-commit-all")).to_have_text("全部导入")
    expect(tid(page, "preview-commit-valid")).to_be_enabled()
    expect(tid(page, "preview-commit-valid")).to_have_text("仅导入有效题目")
    shot(page, name, "02-preview-errors")

    # Only the errors, then discard.
    tid(page, "preview-filter-error").click()
    expect(tid(page, "preview-item-2")).to_have_count(0)
    expect(tid(page, "preview-item-3")).to_be_visible()
    tid(page, "preview-discard").click()
    expect(tid(page, "confirm-box")).to_be_visible()
    tid(page, "confirm-ok").click()
    expect(tid(page, "preview-status")).to_have_attribute("data-status", "discarded")
    assert api.get(f"/imports/{bad_id}")["status"] == "discarded"
    assert not [b for b in api.get("/banks") if b["name"] == BANK_NAME], "a discarded import created the bank"
    shot(page, name, "03-discarded")

    # The good file: committed in full.
    tid(page, "admin-nav-bank-import").click()
    fill(tid(page, "bank-import-bank-name"), BANK_NAME)
    tid(page, "bank-import-file").set_input_files(_csv("好题库.csv", GOOD_BANK))  # type: ignore[arg-type]
    tid(page, "bank-import-submit").click()
    good_id = _import_id(page)
    expect(tid(page, "preview-count-to_import")).to_contain_text("3")
    expect(tid(page, "preview-count-errors")).to_contain_text("0")
    expect(tid(page, "preview-commit-all")).to_be_enabled()
    expect(tid(page, "preview-commit-valid")).to_have_count(0)
    tid(page, "preview-commit-all").click()
    tid(page, "confirm-ok").click()
    expect(tid(page, "preview-status")).to_have_attribute("data-status", "committed")
    expect(tid(page, "preview-result")).to_be_visible()
    job = api.get(f"/imports/{good_id}")
    assert job["result"]["created"] == 3, job["result"]
    shot(page, name, "04-committed")

    # The bank browser finds the question by its text; edit its explanation: version 2.
    tid(page, "preview-to-bank").click()
    expect(tid(page, "bank-select")).to_have_value(str(job["bank_id"]))
    fill(tid(page, "bank-filter-q"), "干预司法活动应当如何处理")
    tid(page, "bank-search").click()
    found = api.get(f"/questions?bank_id={job['bank_id']}&q=浏览器导入专用题")["items"]
    assert len(found) == 1, found
    question = found[0]
    assert question["version"] == 1
    expect(tid(page, f"bank-question-{question['id']}")).to_contain_text(UNIQUE_STEM)
    expect(page.locator("[data-testid^='bank-question-edit-']")).to_have_count(1)
    shot(page, name, "05-bank-search")
    tid(page, f"bank-question-edit-{question['id']}").click()
    expect(tid(page, "question-edit-version")).to_have_attribute("data-version", "1")
    expect(tid(page, "question-edit-answer-0")).to_be_checked()
    fill(tid(page, "question-edit-explanation"), NEW_EXPLANATION)
    tid(page, "question-edit-save").click()
    expect(tid(page, "question-edit-version")).to_have_attribute("data-version", "2")
    expect(tid(page, "question-version-2")).to_contain_text(NEW_EXPLANATION)
    expect(tid(page, "question-version-2").get_by_test_id("question-version-changes")).to_have_text(
        re.compile(r"解析$")
    )
    expect(tid(page, "question-version-1")).to_be_visible()
    stored = api.get(f"/questions/{question['id']}")
    assert (stored["version"], stored["explanation"]) == (2, NEW_EXPLANATION), stored
    assert stored["answer_indexes"] == 0, "saving the explanation changed the answer"
    shot(page, name, "06-question-v2")

    # A roster: a new unit under an existing one, two officers; their initial passwords shown once.
    tid(page, "admin-nav-roster").click()
    tid(page, "roster-import-file").set_input_files(_csv("花名册.csv", ROSTER))  # type: ignore[arg-type]
    tid(page, "roster-import-submit").click()
    roster_id = _import_id(page)
    expect(tid(page, "preview-count-create")).to_contain_text("2")
    expect(tid(page, "preview-count-new_units")).to_contain_text("1")
    expect(tid(page, "preview-count-errors")).to_contain_text("0")
    expect(tid(page, "preview-new-names")).to_contain_text(NEW_UNIT)
    shot(page, name, "07-roster-preview")
    tid(page, "preview-commit-all").click()
    tid(page, "confirm-ok").click()
    expect(tid(page, "preview-passwords")).to_be_visible()
    assert api.get(f"/imports/{roster_id}")["status"] == "committed"
    for number in ("BT900001", "BT900002"):
        password = tid(page, f"password-row-{number}").get_by_test_id("password-value").inner_text().strip()
        assert len(password) >= 8, password
        # The password shown is the one the new officer logs in with (and must then change).
        officer = OfficerApi(base, number, password)
        assert officer.get("/me")["must_change_password"] is True
        officer.close()
    expect(tid(page, "preview-passwords-csv")).to_be_visible()
    shot(page, name, "08-roster-passwords")

    # The unit tree shows the new unit under its parent.
    tid(page, "preview-to-units").click()
    units = api.get("/units")
    new_unit = next(u for u in units if u["name"] == NEW_UNIT)
    parent = next(u for u in units if u["id"] == new_unit["parent_id"])
    assert parent["name"] == "浏览器测试市"
    expect(tid(page, f"unit-node-{new_unit['id']}")).to_contain_text(NEW_UNIT)
    expect(tid(page, f"unit-node-{parent['id']}")).to_be_visible()
    tid(page, f"unit-node-{new_unit['id']}").click()
    expect(tid(page, "unit-people")).to_contain_text("周八")
    expect(tid(page, "unit-people")).to_contain_text("吴九")
    expect(page.locator("[data-testid^='unit-person-']")).to_have_count(2)
    shot(page, name, "09-unit-tree")

    # The import history lists all three bank and roster jobs.
    tid(page, "admin-nav-imports").click()
    for job_id in (bad_id, good_id, roster_id):
        expect(tid(page, f"import-job-{job_id}")).to_be_visible()
    shot(page, name, "10-history")

    # In English: the admin area's own texts, and each problem's English message.
    tid(page, "admin-language-en").click()
    for nav in NAVIGATION:
        expect(tid(page, nav)).not_to_have_text(CJK_TEXT)
    tid(page, "admin-nav-bank-import").click()
    fill(tid(page, "bank-import-bank-name"), BANK_NAME)
    tid(page, "bank-import-file").set_input_files(_csv("bad-bank.csv", BAD_BANK))  # type: ignore[arg-type]
    tid(page, "bank-import-submit").click()
    english_id = _import_id(page)
    expect(tid(page, "preview-commit-all")).to_be_disabled()
    assert not cjk_in(tid(page, "preview-commit-all").inner_text())
    for item in api.get(f"/imports/{english_id}/items?status=error")["items"]:
        row = tid(page, f"preview-item-{item['row']}")
        for problem in item["issues"]:
            expect(row).to_contain_text(problem["message_en"])
            expect(row).not_to_contain_text(problem["message"])
    shot(page, name, "11-preview-en")
    tid(page, "preview-discard").click()
    tid(page, "confirm-ok").click()
    expect(tid(page, "preview-status")).to_have_attribute("data-status", "discarded")
    tid(page, "admin-language-zh").click()
    expect(tid(page, "admin-nav-bank")).to_have_text("题库浏览")
    api.close()
