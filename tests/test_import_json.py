"""Our native JSON format: parser, writer, and the lossless round trip (hypothesis).

`questions()` here generates valid questions of all four types; the GIFT tests use it too.
"""

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.bank.validation import BLANK
from app.imports.common import Draft, ParsedQuestion, check_draft
from app.imports.files import FileRejected
from app.imports.messages import EN, ZH, message
from app.imports.parsers.native_json import parse_json
from app.imports.writers.native_json import write_json

FIXTURES = Path(__file__).parent / "fixtures" / "imports" / "json"

# Valid questions --------------------------------------------------------------------------------

# GIFT's special characters, format markers, comment and weight look-alikes, Chinese and ASCII.
_PICKED = list("~=#{}:\\[]%->/$*!_ \tabcXYZ019") + list(
    "应知警察规定逢问必录政法队伍教育整顿“”（）？。，：；、"
)
_CHARS = st.one_of(
    st.sampled_from(_PICKED),
    # Printable letters, digits, punctuation and symbols (no control or private-use characters,
    # which a text file cannot carry); the full-width underscore is a blank marker.
    st.characters(categories=("L", "N", "P", "S"), exclude_characters="＿"),
)
_PREFIXES = [
    "",
    "[html]",
    "[moodle]",
    "[markdown]",
    "//",
    "::",
    "$CATEGORY: ",
    "%50%",
    "%-100%",
    "####",
    "=",
    "~",
    "->",
]


# Strategies built once: hypothesis validates each new one, which is slow inside a draw.
_LINE_CHARS = st.one_of(_CHARS, st.just("\n"))
_BODIES = {
    (False, True): st.text(_CHARS, min_size=1, max_size=20),
    (True, True): st.text(_LINE_CHARS, min_size=1, max_size=20),
    (False, False): st.text(_CHARS.filter(lambda char: char != "_"), min_size=1, max_size=20),
    (True, False): st.text(_LINE_CHARS.filter(lambda char: char != "_"), min_size=1, max_size=20),
}


@st.composite
def texts(draw: st.DrawFn, newlines: bool = False, underscores: bool = True) -> str:
    text = (draw(st.sampled_from(_PREFIXES)) + draw(_BODIES[newlines, underscores])).strip()
    return text or "题"


def _option_key(text: str) -> str:
    # How app.bank.validation tells options apart.
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


_AREA_PART = st.text(st.sampled_from(list("警示教育三个规定政治abcXYZ 12")), min_size=1, max_size=8).map(
    str.strip
)


@st.composite
def questions(draw: st.DrawFn) -> ParsedQuestion:
    """A question that check_draft accepts, in the form check_draft gives it."""
    kind = draw(st.sampled_from(["single", "multiple", "true_false", "fill_blank"]))
    options: list[str] = []
    answer: Any
    if kind in ("single", "multiple"):
        options = draw(st.lists(texts(newlines=True), min_size=2, max_size=8, unique_by=_option_key))
        indexes = st.integers(0, len(options) - 1)
        if kind == "single":
            answer = draw(indexes)
        else:
            answer = sorted(draw(st.lists(indexes, min_size=2, max_size=len(options), unique=True)))
        stem = draw(texts(newlines=True))
    elif kind == "true_false":
        answer = draw(st.booleans())
        stem = draw(texts(newlines=True))
    else:
        blanks = draw(st.integers(1, 3))
        # Text around blanks holds no underscores, which would run into the blank marker; only
        # the ends may be empty (two blanks in a row would read as one).
        piece = texts(newlines=True, underscores=False)
        inner = draw(st.lists(piece, min_size=blanks - 1, max_size=blanks - 1))
        ends = st.one_of(st.just(""), piece)
        stem = BLANK.join([draw(ends), *inner, draw(ends)])
        answer = draw(st.lists(st.lists(texts(), min_size=1, max_size=3), min_size=blanks, max_size=blanks))
    parts = draw(st.lists(_AREA_PART.filter(bool), max_size=3))
    draft = Draft(
        type=kind,
        stem=stem,
        options=options,
        answer=answer,
        answer_is_text=False,
        explanation=draw(st.one_of(st.just(""), texts(newlines=True))),
        difficulty=draw(st.integers(1, 5)),
        points=draw(st.integers(1, 100)),
        area="/".join(parts),
        tags=draw(st.lists(texts(newlines=True), max_size=4)),
    )
    checked = check_draft(draft)
    assert isinstance(checked, ParsedQuestion), (draft, checked)
    return checked


def contents(items: list[ParsedQuestion]) -> list[dict[str, Any]]:
    return [item.content() for item in items]


def assert_messages_filled(issues: list[Any]) -> None:
    """Every message has its parameters filled in, in both languages."""
    for problem in issues:
        for text in (problem.message, problem.message_en):
            assert not re.search(r"\{[a-z_]+\}", text), text


# Reading ----------------------------------------------------------------------------------------


def test_good_file_reads_every_field() -> None:
    result = parse_json((FIXTURES / "good.json").read_bytes())
    assert result.issues == []
    assert result.format == "json"
    assert result.encoding == "utf-8"
    assert result.bank_name == "政法队伍教育整顿应知应会"
    assert [q.line for q in result.questions] == [1, 2, 3, 4]
    single, multiple, true_false, fill = result.questions
    assert single.content() == {
        "type": "single",
        "stem": "防止干预司法“三个规定”的核心做法是？",
        "options": ["逢问必录", "选择性记录", "事后补录"],
        "answer": 0,
        "explanation": "防止干预司法“三个规定”的核心做法是逢问必录。",
        "difficulty": 2,
        "points": 1,
        "area": "警示教育/三个规定",
        "tags": ["三个规定"],
    }
    assert (multiple.type, multiple.answer, multiple.difficulty, multiple.points) == (
        "multiple",
        [0, 1, 2],
        3,
        2,
    )
    # Fields left out (or null) take the defaults.
    assert (true_false.answer, true_false.options, true_false.points, true_false.area) == (True, [], 1, "")
    assert fill.answer == [["2021"], ["1", "一"], ["1", "一"]]
    assert (fill.difficulty, fill.points, fill.tags) == (2, 3, ["民法典", "法律"])


def test_a_bare_list_of_questions_is_accepted() -> None:
    result = parse_json((FIXTURES / "bare_list.json").read_bytes())
    assert result.issues == []
    assert result.bank_name is None
    assert [(q.type, q.answer) for q in result.questions] == [("true_false", True), ("single", 0)]


def test_gb18030_and_bom_files_are_decoded() -> None:
    text = (FIXTURES / "bare_list.json").read_text("utf-8")
    for data, encoding in (
        (text.encode("gb18030"), "gb18030"),
        (b"\xef\xbb\xbf" + text.encode(), "utf-8-sig"),
    ):
        result = parse_json(data)
        assert result.encoding == encoding
        assert result.questions[1].options == ["1月10日", "12月4日"]


def test_malformed_json_is_refused_with_line_and_column() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json((FIXTURES / "malformed_syntax.json").read_bytes())
    assert caught.value.code == "json_invalid"
    assert caught.value.params["line"] == 6
    assert caught.value.params["column"] == 5
    assert "第 6 行第 5 列" in caught.value.detail
    assert "line 6, column 5" in caught.value.message_en


def test_every_bad_question_is_reported_and_the_good_one_still_reads() -> None:
    result = parse_json((FIXTURES / "bad_questions.json").read_bytes())
    found = [(i.line, i.code, i.field) for i in result.issues]
    assert found == [
        (1, "json_question_not_object", None),
        (2, "json_unknown_field", "source"),
        (3, "json_duplicate_field", "answer"),
        (4, "json_missing_field", "type"),
        (5, "json_field_type", "answer"),
        (6, "json_field_type", "answer"),
        (7, "json_field_type", "difficulty"),
        (8, "single_needs_one_answer", "answer"),
        (9, "unsupported_type", "type"),
    ]
    assert [r.line for r in result.rejected] == list(range(1, 10))
    assert [q.line for q in result.questions] == [10]
    assert result.bank_name == "有问题的题库"
    # Our own messages name the question by its number.
    for problem in result.issues:
        if problem.code.startswith("json_"):
            assert problem.message.startswith(f"第 {problem.line} 题"), problem.message
            assert f"Question {problem.line}" in problem.message_en
    assert "true 或 false" in result.issues[4].message
    assert_messages_filled(result.issues)


def test_rejected_questions_keep_their_stem_and_type_for_the_preview() -> None:
    result = parse_json((FIXTURES / "bad_questions.json").read_bytes())
    assert result.rejected[0].stem == '"这不是一个对象"'
    assert (result.rejected[1].stem, result.rejected[1].type) == ("多了一个未知字段？", "single")
    assert (result.rejected[3].stem, result.rejected[3].type) == ("缺少 type 字段？", "")


@pytest.mark.parametrize(
    ("document", "code", "params"),
    [
        ({"format": "yingzhi-bank", "version": 2, "questions": []}, "json_version", {"version": "2"}),
        ({"format": "moodle", "questions": []}, "json_version", {"format": "moodle"}),
        ({"version": True, "questions": []}, "json_version", {"version": "True"}),
        ({"questions": [], "exported_at": "2024"}, "json_not_bank", {"field": "exported_at"}),
        ({"bank": ["a"], "questions": []}, "json_not_bank", {"field": "bank"}),
        ({"bank": "a"}, "json_not_bank", {"field": "questions"}),
        ({"questions": {"type": "single"}}, "json_not_bank", {"field": "questions"}),
        ("题库", "json_not_bank", {"field": "questions"}),
        ([], "no_questions", {}),
        ({"format": "yingzhi-bank", "version": 1, "questions": []}, "no_questions", {}),
    ],
)
def test_files_that_are_not_a_bank_are_refused(document: Any, code: str, params: dict[str, str]) -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json(json.dumps(document).encode())
    assert caught.value.code == code
    assert params.items() <= caught.value.params.items()


def test_wrong_version_fixture_is_refused() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json((FIXTURES / "wrong_version.json").read_bytes())
    assert caught.value.code == "json_version"


def test_a_top_level_field_written_twice_is_refused() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json(b'{"bank": "a", "bank": "b", "questions": []}')
    assert (caught.value.code, caught.value.params["field"]) == ("json_not_bank", "bank")


def test_absurd_nesting_is_refused_without_crashing() -> None:
    with pytest.raises(FileRejected) as caught:
        parse_json(b"[" * 200_000)
    assert caught.value.code == "json_unreadable"


def test_null_optional_fields_mean_not_given_but_null_required_fields_do_not() -> None:
    document = [
        {"type": "true_false", "stem": "甲", "answer": True, "explanation": None, "tags": None, "area": None},
        {"type": "true_false", "stem": None, "answer": True},
    ]
    result = parse_json(json.dumps(document).encode())
    assert [(q.explanation, q.tags, q.area) for q in result.questions] == [("", [], "")]
    assert [(i.line, i.code, i.field) for i in result.issues] == [(2, "json_field_type", "stem")]


def test_choice_answers_go_through_the_shared_letter_checks() -> None:
    document = [
        {"type": "multiple", "stem": "甲", "options": ["一", "二", "三"], "answer": "A、C"},
        {"type": "single", "stem": "乙", "options": ["一", "二"], "answer": "E"},
        {"type": "single", "stem": "丙", "options": ["一", "二"], "answer": ""},
    ]
    result = parse_json(json.dumps(document, ensure_ascii=False).encode())
    assert [q.answer for q in result.questions] == [[0, 2]]
    assert [(i.line, i.code) for i in result.issues] == [(2, "answer_out_of_range"), (3, "answer_required")]


# Writing ----------------------------------------------------------------------------------------


def test_written_json_has_the_documented_layout() -> None:
    bank = parse_json((FIXTURES / "good.json").read_bytes())
    data = write_json("政法队伍教育整顿应知应会", bank.questions)
    text = data.decode("utf-8")
    assert "防止干预司法" in text  # Chinese as is, not \u escapes
    assert text.endswith("}\n")
    document = json.loads(text)
    assert list(document) == ["format", "version", "bank", "questions"]
    assert (document["format"], document["version"]) == ("yingzhi-bank", 1)
    assert [list(q) for q in document["questions"]] == [
        ["type", "stem", "options", "answer", "explanation", "difficulty", "points", "area", "tags"]
    ] * 4
    assert [q["answer"] for q in document["questions"]] == [
        "A",
        "ABC",
        True,
        [["2021"], ["1", "一"], ["1", "一"]],
    ]
    assert '\n  "questions": [\n    {\n      "type": "single",' in text


def test_writing_is_stable() -> None:
    bank = parse_json((FIXTURES / "good.json").read_bytes())
    first = write_json("题库", bank.questions)
    assert write_json("题库", parse_json(first).questions) == first


@settings(max_examples=300, deadline=None)
@given(st.lists(questions(), min_size=1, max_size=6), texts())
def test_json_round_trip_is_lossless(items: list[ParsedQuestion], bank_name: str) -> None:
    result = parse_json(write_json(bank_name, items))
    assert result.issues == []
    assert result.bank_name == bank_name
    assert contents(result.questions) == contents(items)
    assert [q.line for q in result.questions] == list(range(1, len(items) + 1))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    try:
        result = parse_json(text.encode("utf-8"))
    except FileRejected:
        return
    assert result.total == len(result.questions) + len(result.rejected)
    issue_lines = {i.line for i in result.issues}
    assert all(r.line in issue_lines for r in result.rejected)


def test_every_json_code_has_both_languages() -> None:
    codes = [code for code in ZH if code.startswith("json_")]
    assert len(codes) == 9
    for code in codes:
        assert code in EN
        assert message(
            code, name="x", number=1, line=1, column=1, detail="d", field="f", format="f", version=1
        )
