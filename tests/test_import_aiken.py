"""Moodle Aiken: single-choice questions only, strict, every problem reported with its line."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.imports.common import ParseResult
from app.imports.files import FileRejected
from app.imports.messages import EN, ZH
from app.imports.parsers.aiken import parse_aiken
from tests.test_import_json import assert_messages_filled

FIXTURES = Path(__file__).parent / "fixtures" / "imports" / "moodle"


def aiken(text: str) -> ParseResult:
    return parse_aiken(text.encode("utf-8"))


def test_good_file() -> None:
    result = parse_aiken((FIXTURES / "good.aiken.txt").read_bytes())
    assert result.issues == []
    assert (result.format, result.encoding) == ("aiken", "utf-8")
    assert [q.content() for q in result.questions] == [
        {
            "type": "single",
            "stem": "防止干预司法“三个规定”的核心做法是？",
            "options": ["逢问必录", "选择性记录", "事后补录"],
            "answer": 0,
            "explanation": "",
            "difficulty": 2,
            "points": 1,
            "area": "",
            "tags": [],
        },
        {
            "type": "single",
            # Question text over several lines, options with `)`.
            "stem": "政法队伍教育整顿的三个环节中，\n第一个环节是？",
            "options": ["查纠整改", "学习教育", "总结提升", "评估验收"],
            "answer": 1,
            "explanation": "",
            "difficulty": 2,
            "points": 1,
            "area": "",
            "tags": [],
        },
        {
            "type": "single",
            "stem": "中国人民警察节是每年的哪一天？",
            "options": ["1月10日", "12月4日"],
            "answer": 0,
            "explanation": "",
            "difficulty": 2,
            "points": 1,
            "area": "",
            "tags": [],
        },
    ]
    # A question that follows an ANSWER line without a blank line still starts at its own line.
    assert [q.line for q in result.questions] == [1, 7, 14]


def test_malformed_file_reports_each_question_and_reads_on() -> None:
    result = parse_aiken((FIXTURES / "malformed.aiken.txt").read_bytes())
    found = [(i.line, i.code, i.params.get("problem"), i.params.get("at_line")) for i in result.issues]
    assert found == [
        (1, "aiken_syntax", "answer_not_one_letter", 5),
        (7, "aiken_syntax", "option_letter_order", 9),
        (12, "aiken_syntax", "missing_answer", 15),
        (15, "aiken_syntax", "answer_line", 18),
        (20, "answer_out_of_range", None, None),
        (25, "duplicate_option", None, None),
        (30, "aiken_syntax", "no_question_text", 30),
        (39, "aiken_syntax", "missing_answer", 41),
    ]
    assert [r.line for r in result.rejected] == [line for line, *_ in found]
    assert [(q.line, q.options) for q in result.questions] == [(34, ["1月10日", "12月4日"])]
    first = result.issues[0]
    assert first.params["text"] == "ANSWER: AC"
    assert first.message.startswith("Aiken 格式错误（第 5 行“ANSWER: AC”）")
    assert "Aiken 只支持单选题" in first.message
    assert "line 5" in first.message_en
    assert_messages_filled(result.issues)


@pytest.mark.parametrize(
    "answer_line",
    ["ANSWER: A,C", "ANSWER: AC", "ANSWER: a", "ANSWER:", "ANSWER: 甲", "answer: A", "ANSWER：A"],
)
def test_only_one_capital_letter_after_answer_is_accepted(answer_line: str) -> None:
    result = aiken(f"题干\nA. 甲\nB. 乙\nC. 丙\n{answer_line}\n\n下一题\nA. 甲\nB. 乙\nANSWER: B\n")
    assert [(i.line, i.code) for i in result.issues] == [(1, "aiken_syntax")]
    assert [(q.line, q.answer) for q in result.questions] == [(7, 1)]


def test_answer_with_spaces_and_option_without_space() -> None:
    result = aiken("题干\nA.\tA 选项\nB)   B 选项\nANSWER:   B   \n")
    assert result.issues == []
    assert (result.questions[0].options, result.questions[0].answer) == (["A 选项", "B 选项"], 1)


def test_an_empty_option_is_reported_by_the_shared_checks() -> None:
    result = aiken("题干\nA.\nB. 乙\nANSWER: B\n")
    assert [(i.line, i.code) for i in result.issues] == [(1, "empty_option")]


def test_answer_without_options_or_question() -> None:
    result = aiken("只有题干\nANSWER: A\n\nANSWER: B\n")
    assert [(i.line, i.params["problem"]) for i in result.issues] == [
        (1, "no_options"),
        (4, "no_question_text"),
    ]


def test_gb18030_file() -> None:
    data = (FIXTURES / "good.aiken.txt").read_text("utf-8").encode("gb18030")
    result = parse_aiken(data)
    assert result.encoding == "gb18030"
    assert [q.answer for q in result.questions] == [0, 1, 0]


def test_a_file_without_questions_is_refused() -> None:
    with pytest.raises(FileRejected) as caught:
        aiken("\n\n   \n")
    assert caught.value.code == "no_questions"


_AIKENISH = st.lists(
    st.one_of(
        st.sampled_from(
            ["A. 甲", "B) 乙", "C. 丙", "ANSWER: A", "ANSWER: B", "ANSWER: AB", "answer: A", "", "题干"]
        ),
        st.text(max_size=20),
    ),
    max_size=30,
).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(_AIKENISH)
def test_arbitrary_text_never_crashes_and_every_question_is_accounted_for(text: str) -> None:
    try:
        result = aiken(text)
    except FileRejected:
        return
    assert result.total == len(result.questions) + len(result.rejected) > 0
    issue_lines = {i.line for i in result.issues}
    assert all(r.line in issue_lines for r in result.rejected)
    assert all(q.type == "single" for q in result.questions)
    assert_messages_filled(result.issues)


def test_aiken_code_has_both_languages() -> None:
    assert "aiken_syntax" in ZH and "aiken_syntax" in EN
