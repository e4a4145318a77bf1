"""Numbered plain text question banks (pasted from notices or saved as .txt): every variant admins
write, every malformed case as a specific issue on its line, and a round-trip property."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.imports.common import ParsedQuestion, ParseResult
from app.imports.files import FileRejected
from app.imports.parsers.text import parse_text, parse_text_lines

FIXTURES = Path(__file__).parent / "fixtures" / "imports" / "text"


def parse(text: str) -> ParseResult:
    return parse_text(text.encode("utf-8"))


def only(text: str) -> ParsedQuestion:
    """The one question in `text`, which must parse without any issue."""
    result = parse(text)
    assert result.issues == []
    assert len(result.questions) == 1
    return result.questions[0]


def codes(result: ParseResult) -> list[tuple[int | None, str]]:
    return [(found.line, found.code) for found in result.issues]


SINGLE = "1.【单选题】防止干预司法“三个规定”的核心做法是（ ）。\nA. 逢问必录\nB. 选择性记录\n答案：A\n"


# The fixtures --------------------------------------------------------------------------------

# (line, type, stem, options, answer, explanation, difficulty, points, area, tags) of good.txt
GOOD: list[tuple[Any, ...]] = [
    (5, "single", "防止干预司法“三个规定”的核心做法是（ ）。", ["逢问必录", "选择性记录"], 0,
     "对过问案件的情况应当全程留痕、逢问必录。", 2, 3, "警示教育/三个规定", ["三个规定", "记录"]),
    (14, "single", "司法人员记录过问案件情况应当（ ）。", ["全面如实", "选择性"], 0, "", 2, 2, "", []),
    (17, "single", "下列说法正确的是（ ）。", ["甲说法", "乙说法", "丙说法"], 1,
     "解析的第一行，\n解析的第二行。", 3, 1, "警示教育/三个规定", ["标签一", "标签二"]),
    (28, "single", "题干四（ ）", ["甲", "乙", "丙"], 2, "", 2, 2, "", []),
    (31, "single", "题干五", ["选项一", "选项二"], 1, "", 2, 2, "", []),
    (35, "single", "题干六", ["一", "二", "三"], 2, "答案解析的写法。", 2, 2, "", []),
    (41, "single", "题干七", ["一", "二"], 1, "", 4, 5, "", []),
    (45, "single", "题干八", ["一", "二"], 0, "", 2, 2, "", []),
    (49, "single", "题干九", ["一", "二"], 1, "", 2, 2, "", []),
    (53, "single", "题干十", ["一", "二", "三", "四"], 3, "", 2, 2, "", []),
    (56, "single", "题干十一", ["一", "二"], 1, "", 2, 2, "", []),
    (59, "single", "题干十二", ["一", "二"], 0, "", 2, 2, "", []),
    (65, "multiple", "题干十三", ["一", "二", "三", "四"], [0, 1], "", 2, 4, "", []),
    (71, "multiple", "题干十四", ["一", "二", "三"], [0, 2], "", 2, 4, "", []),
    (76, "multiple", "题干十五", ["一", "二", "三", "四"], [0, 1, 3], "", 2, 4, "", []),
    (82, "multiple", "题干十六", ["一", "二", "三"], [0, 1], "", 2, 4, "", []),
    (87, "multiple", "题干十七", ["一", "二", "三"], [0, 1], "", 2, 4, "", []),
    (92, "multiple", "题干十八", ["一", "二", "三"], [0, 1], "", 2, 4, "", []),
    (97, "multiple", "题干十九，无题型，随大题", ["一", "二", "三"], [1, 2], "", 2, 4, "", []),
    *[
        (line, "true_false", f"题干{number}", [], value, "", 2, 1, "", [])
        for line, number, value in [
            (103, "二十", True), (105, "二十一", False), (107, "二十二", True), (109, "二十三", False),
            (111, "二十四", True), (113, "二十五", False), (115, "二十六", True), (117, "二十七", False),
            (119, "二十八", True), (121, "二十九", False),
        ]
    ],
    (123, "true_false", "题干三十（ ）", [], True, "", 2, 1, "", []),
    (124, "true_false", "题干三十一", [], False, "", 2, 1, "", []),
    (129, "fill_blank", "领导干部过问案件，司法人员应当____。", [], [["逢问必录"]], "", 2, 2, "", []),
    (131, "fill_blank", "“三个规定”包括防止____和防止____。", [], [["干预司法"], ["插手案件"]],
     "", 2, 2, "", []),
    (133, "fill_blank", "对过问情况应当全程____。", [], [["留痕", "记录"]], "", 2, 2, "", []),
    (135, "fill_blank", "对过问情况应当____。", [], [["记录"]], "", 2, 2, "", []),
    (138, "single", "题干三十六", ["一", "二"], 1, "", 2, 1, "", []),
    (142, "multiple", "题干三十七", ["一", "二", "三"], [0, 2], "", 2, 2, "", []),
    (147, "true_false", "题干三十八，类型由答案推断", [], True, "", 2, 1, "", []),
    (149, "single", "题干三十九，没有题号", ["一", "二"], 0, "", 2, 1, "", []),
    (153, "single", "题干四十，没有题号也没有题型", ["一", "二"], 1, "", 2, 1, "", []),
]  # fmt: skip


def as_tuple(question: ParsedQuestion) -> tuple[Any, ...]:
    return (
        question.line,
        question.type,
        question.stem,
        question.options,
        question.answer,
        question.explanation,
        question.difficulty,
        question.points,
        question.area,
        question.tags,
    )


def test_good_file_with_every_variant() -> None:
    result = parse_text((FIXTURES / "good.txt").read_bytes())
    assert result.format == "text"
    assert result.encoding == "utf-8"
    assert result.issues == []
    assert result.rejected == []
    assert [as_tuple(q) for q in result.questions] == GOOD


def test_gb18030_file() -> None:
    data = (FIXTURES / "gb18030.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is GB18030, not UTF-8
    result = parse_text(data)
    assert result.encoding == "gb18030"
    assert result.issues == []
    assert [as_tuple(q) for q in result.questions] == [
        (2, "single", "防止干预司法“三个规定”的核心做法是（ ）。", ["逢问必录", "选择性记录"], 0,
         "逢问必录，全程留痕。", 2, 1, "", []),
        (7, "true_false", "领导干部可以私下过问案件。", [], False, "", 2, 1, "", []),
    ]  # fmt: skip


def test_malformed_file_reports_each_problem_on_its_line() -> None:
    result = parse_text((FIXTURES / "malformed.txt").read_bytes())
    assert codes(result) == [
        (1, "text_unexpected_line"),
        (2, "empty_stem"),
        (9, "duplicate_option_letter"),
        (14, "answer_out_of_range"),
        (18, "single_needs_one_answer"),
        (19, "unknown_type"),
        (23, "unsupported_type"),
        (29, "text_unexpected_line"),
    ]
    assert [q.stem for q in result.questions] == ["题干七"]
    assert [(r.line, r.type) for r in result.rejected] == [
        (2, "单选题"),
        (6, "单选题"),
        (11, "单选题"),
        (15, "单选题"),
        (19, "综合题"),
        (23, "简答题"),
    ]
    for found in result.issues:
        assert found.message and found.message_en and found.message != found.code


# Variants ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["1.", "1、", "1．", "1 .", "（1）", "(1)", "第1题", "第 1 题", "12.", "1)", "１．"]
)
def test_question_numbers(number: str) -> None:
    question = only(f"{number}【单选题】题干\nA. 甲\nB. 乙\n答案：B\n")
    assert (question.stem, question.options, question.answer) == ("题干", ["甲", "乙"], 1)


@pytest.mark.parametrize(
    "markers",
    [
        ("A. ", "B. "),
        ("A、", "B、"),
        ("A．", "B．"),
        ("(A)", "(B)"),
        ("（A）", "（B）"),
        ("A)", "B)"),
        ("A:", "B:"),
        ("A：", "B："),
        ("a.", "b."),
        ("Ａ．", "Ｂ．"),
        ("A .", "B ."),
    ],
)
def test_option_markers(markers: tuple[str, str]) -> None:
    first, second = markers
    question = only(f"1.【单选题】题干\n{first}逢问必录\n{second}选择性记录\n答案：A\n")
    assert question.options == ["逢问必录", "选择性记录"]
    assert question.answer == 0


@pytest.mark.parametrize(
    "line",
    [
        "A.逢问必录  B.选择性记录  C.不记录",
        "A. 逢问必录\tB. 选择性记录\tC. 不记录",
        "A、逢问必录　B、选择性记录　C、不记录",
        "(A)逢问必录 (B)选择性记录 (C)不记录",
        "Ａ．逢问必录　Ｂ．选择性记录　Ｃ．不记录",
        "a.逢问必录 b.选择性记录 c.不记录",
    ],
)
def test_options_on_one_line(line: str) -> None:
    question = only(f"1.【单选题】题干\n{line}\n答案：C\n")
    assert question.options == ["逢问必录", "选择性记录", "不记录"]
    assert question.answer == 2


def test_question_stem_starting_with_a_number() -> None:
    question = only("3、5年以上有期徒刑的案件，应当（ ）。\nA. 甲\nB. 乙\n答案：A\n")
    assert question.stem == "5年以上有期徒刑的案件，应当（ ）。"
    decimal = parse("1.5倍的说法\n" + SINGLE)  # "1.5" is no question number: a title line here
    assert decimal.issues == []
    assert [q.line for q in decimal.questions] == [2]


def test_more_than_eight_options() -> None:
    result = parse("1.【单选题】题干\nA.一 B.二 C.三 D.四 E.五 F.六 G.七 H.八 I.九\n答案：A\n")
    assert codes(result) == [(2, "too_many_options")]


def test_options_split_across_lines_and_one_line() -> None:
    question = only("1.【多选题】题干\nA.一  B.二\nC.三  D.四\n答案：AD\n")
    assert question.options == ["一", "二", "三", "四"]
    assert question.answer == [0, 3]


def test_option_text_mentioning_a_letter_is_not_split() -> None:
    question = only("1.【单选题】题干\nA. 见 C 款\nB. 见 D. 项\n答案：A\n")
    assert question.options == ["见 C 款", "见 D. 项"]


@pytest.mark.parametrize(
    "line",
    [
        "答案：A",
        "答案: A",
        "答案 ： A",
        "【答案】A",
        "【答案】：A",
        "[答案]A",
        "正确答案：A",
        "参考答案：A",
        "标准答案：A",
    ],
)
def test_answer_labels(line: str) -> None:
    assert only(f"1.【单选题】题干\nA. 甲\nB. 乙\n{line}\n").answer == 0


@pytest.mark.parametrize("answer", ["AB", "A,B", "A、B", "A;B", "A，B", "A；B", "ＡＢ", "A B", "ab", "BA"])
def test_multiple_answer_forms(answer: str) -> None:
    question = only(f"1.【多选题】题干\nA. 甲\nB. 乙\nC. 丙\n答案：{answer}\n")
    assert question.type == "multiple"
    assert question.answer == [0, 1]


@pytest.mark.parametrize("word", ["多选题", "多项选择题", "不定项选择题", "多选", "多项选择"])
def test_multiple_type_words(word: str) -> None:
    question = only(f"1.【{word}】题干\nA. 甲\nB. 乙\nC. 丙\n答案：AC\n")
    assert (question.type, question.answer) == ("multiple", [0, 2])


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("正确", True),
        ("错误", False),
        ("对", True),
        ("错", False),
        ("√", True),
        ("×", False),
        ("是", True),
        ("否", False),
        ("T", True),
        ("F", False),
        ("t", True),
        ("Ｆ", False),
    ],
)
def test_true_false_answers(answer: str, expected: bool) -> None:
    question = only(f"1.【判断题】领导干部可以过问案件。\n答案：{answer}\n")
    assert (question.type, question.answer) == ("true_false", expected)


def test_true_false_written_with_options() -> None:
    question = only("1.【判断题】领导干部可以私下过问案件。\nA. 正确\nB. 错误\n答案：B\n")
    assert (question.type, question.options, question.answer) == ("true_false", [], False)


@pytest.mark.parametrize(
    ("stem", "answer", "expected_stem", "expected"),
    [
        ("应当____。", "逢问必录", "应当____。", [["逢问必录"]]),
        ("防止____和防止____。", "干预司法|插手案件", "防止____和防止____。", [["干预司法"], ["插手案件"]]),
        ("应当____。", "逢问必录;逢问必录制度", "应当____。", [["逢问必录", "逢问必录制度"]]),
        ("应当____。", "逢问必录；逢问必录制度", "应当____。", [["逢问必录", "逢问必录制度"]]),
        ("防止____和____。", "甲;一|乙", "防止____和____。", [["甲", "一"], ["乙"]]),
        ("应当＿＿＿。", "记录", "应当____。", [["记录"]]),
        ("应当_______。", "记录", "应当____。", [["记录"]]),
    ],
)
def test_fill_blank(stem: str, answer: str, expected_stem: str, expected: list[list[str]]) -> None:
    question = only(f"1.【填空题】{stem}\n答案：{answer}\n")
    assert (question.type, question.stem, question.answer) == ("fill_blank", expected_stem, expected)


@pytest.mark.parametrize("label", ["解析：", "【解析】", "答案解析：", "[解析]", "试题解析："])
def test_explanation_labels_and_lines(label: str) -> None:
    result = parse(
        f"{SINGLE}{label}第一行。\n第二行。\n\n第三行。\n2.【单选题】下一题\nA. 甲\nB. 乙\n答案：A"
    )
    assert result.issues == []
    assert [q.explanation for q in result.questions] == ["第一行。\n第二行。\n第三行。", ""]


def test_explanation_on_the_line_after_its_label() -> None:
    assert only(f"{SINGLE}解析：\n全程留痕。\n").explanation == "全程留痕。"


def test_explanation_with_numbered_points_keeps_them_until_the_next_number() -> None:
    result = parse(
        "5.【单选题】题干五\nA. 甲\nB. 乙\n答案：A\n解析：理由有二：\n1、全程留痕；\n2、逢问必录。\n"
        "6.【判断题】题干六\n答案：对\n解析：见下：\n（1）第一点\n7. 题干七\n答案：错\n"
    )
    assert result.issues == []
    assert [(q.line, q.explanation) for q in result.questions] == [
        (1, "理由有二：\n1、全程留痕；\n2、逢问必录。"),
        (8, "见下：\n（1）第一点"),
        (12, ""),
    ]


def test_tagged_question_after_an_explanation_always_starts() -> None:
    result = parse(SINGLE + "解析：说明。\n9.【判断题】题干\n答案：对\n")
    assert [(q.line, q.type) for q in result.questions] == [(1, "single"), (6, "true_false")]


def test_explanation_with_chinese_numbered_points_stays_in_the_explanation() -> None:
    question = only(f"{SINGLE}解析：理由如下：\n一、全程留痕；\n二、逢问必录。\n难度：3\n")
    assert question.explanation == "理由如下：\n一、全程留痕；\n二、逢问必录。"
    assert question.difficulty == 3


@pytest.mark.parametrize(
    "fields",
    [
        "难度：4\n分值：5\n知识点：警示教育/三个规定\n标签：a,b",
        "【难度】4\n【分值】5\n【知识点】警示教育/三个规定\n【标签】a、b",
        "难度：4　分值：5　知识点：警示教育/三个规定　标签：a，b",
        "答案：A 难度：4 分值：5\n考点：警示教育/三个规定\n关键词：a b",
        "难度: 4\n分数: 5\n类别: 警示教育 / 三个规定\n标签: a;b",
    ],
)
def test_optional_fields(fields: str) -> None:
    text = "1.【单选题】题干\nA. 甲\nB. 乙\n" + ("" if fields.startswith("答案") else "答案：A\n") + fields
    question = only(text)
    assert question.answer == 0
    assert (question.difficulty, question.points, question.area, question.tags) == (
        4,
        5,
        "警示教育/三个规定",
        ["a", "b"],
    )


def test_difficulty_word() -> None:
    assert only(f"{SINGLE}难度：较难\n").difficulty == 4


def test_points_tag_after_the_type_tag() -> None:
    question = only("1.【单选题】（3分）题干\nA. 甲\nB. 乙\n答案：A\n")
    assert (question.stem, question.points) == ("题干", 3)


def test_answer_on_the_line_after_its_label() -> None:
    assert only("1.【单选题】题干\nA. 甲\nB. 乙\n答案：\nB\n").answer == 1


def test_section_headings_set_type_and_points() -> None:
    result = parse(
        "一、单选题（每题2分）\n1. 题干一\nA. 甲\nB. 乙\n答案：A\n"
        "二、多项选择题（共10题，每题3分）\n2. 题干二\nA. 甲\nB. 乙\nC. 丙\n答案：AB\n"
        "3.【单选题】题干三\nA. 甲\nB. 乙\n答案：B\n分值：5\n"
        "三、判断题\n（每小题1分）\n4. 题干四\n答案：对\n"
        "第四部分 填空题\n5. 题干五____\n答案：对\n"
    )
    assert result.issues == []
    assert [(q.type, q.points, q.answer) for q in result.questions] == [
        ("single", 2, 0),
        ("multiple", 3, [0, 1]),
        ("single", 5, 1),  # its own tag and points win over the section's
        ("true_false", 1, True),
        ("fill_blank", 2, [["对"]]),  # the section says fill-in, though 对 alone would read as true/false
    ]


def test_section_heading_of_an_unsupported_type_rejects_its_questions() -> None:
    result = parse("一、简答题\n1. 简述“三个规定”。\n答案：防止干预司法。\n")
    assert codes(result) == [(2, "unsupported_type")]


def test_answer_inside_the_stem_parentheses() -> None:
    question = only("1.【单选题】防止干预司法“三个规定”的核心做法是（A）。\nA. 逢问必录\nB. 选择性记录\n")
    assert question.stem == "防止干预司法“三个规定”的核心做法是（ ）。"
    assert question.answer == 0
    multiple = only("1.【多选题】下列做法正确的是( A、C )\nA. 甲\nB. 乙\nC. 丙\n")
    assert (multiple.stem, multiple.answer) == ("下列做法正确的是（ ）", [0, 2])
    judged = only("1.【判断题】领导干部可以私下过问案件。（×）\n")
    assert (judged.stem, judged.answer) == ("领导干部可以私下过问案件。（ ）", False)


def test_answer_in_stem_is_ignored_when_there_is_an_answer_line() -> None:
    question = only("1.【单选题】依照（A）类规定，应当如何处理（ ）。\nA. 甲\nB. 乙\n答案：B\n")
    assert question.stem == "依照（A）类规定，应当如何处理（ ）。"
    assert question.answer == 1


def test_blank_lines_and_whitespace_everywhere() -> None:
    result = parse(
        "\n\n　　1.　【单选题】　题干一　\n\n　A.　甲　\n\nB. 乙\u00a0\n\n答案：　A　\n\n\n"
        "\u200b2.【判断题】题干二\ufeff\n答案：对\n"
    )
    assert result.issues == []
    assert [(q.stem, q.options, q.answer) for q in result.questions] == [
        ("题干一", ["甲", "乙"], 0),
        ("题干二", [], True),
    ]


def test_no_blank_lines_and_windows_line_ends() -> None:
    result = parse_text(
        "1.【单选题】甲\r\nA. 一\r\nB. 二\r\n答案：A\r\n2.【单选题】乙\r\nA. 一\r\nB. 二\r\n"
        "答案：B\r\n".encode()
    )
    assert [(q.line, q.stem, q.answer) for q in result.questions] == [(1, "甲", 0), (5, "乙", 1)]


def test_stem_over_several_lines() -> None:
    question = only("1.【单选题】根据规定，\n下列说法正确的是（ ）。\nA. 甲\nB. 乙\n答案：A\n")
    assert question.stem == "根据规定，\n下列说法正确的是（ ）。"


def test_items_listed_in_a_stem_stay_in_the_stem() -> None:
    question = only("1.【单选题】下列说法正确的有：\n（1）甲说法\n（2）乙说法\nA. (1)\nB. (1)(2)\n答案：B\n")
    assert question.stem == "下列说法正确的有：\n（1）甲说法\n（2）乙说法"
    assert question.options == ["(1)", "(1)(2)"]


def test_option_wrapped_onto_the_next_line() -> None:
    question = only("1.【单选题】题干\nA. 很长的选项\n接着写\nB. 乙\n答案：A\n")
    assert question.options == ["很长的选项\n接着写", "乙"]


@pytest.mark.parametrize(
    ("answer", "expected_type", "expected"),
    [("A", "single", 0), ("AB", "multiple", [0, 1]), ("A,C", "multiple", [0, 2])],
)
def test_choice_type_inferred_from_the_answer(answer: str, expected_type: str, expected: Any) -> None:
    question = only(f"1. 题干\nA. 甲\nB. 乙\nC. 丙\n答案：{answer}\n")
    assert (question.type, question.answer) == (expected_type, expected)


def test_true_false_and_fill_inferred_from_the_answer() -> None:
    assert only("1. 领导干部可以私下过问案件。\n答案：错\n").type == "true_false"
    assert only("1. 应当____。\n答案：逢问必录\n").type == "fill_blank"


def test_type_not_inferred_when_ambiguous() -> None:
    result = parse("1. 应当如何处理过问案件？\n答案：逢问必录\n")
    assert codes(result) == [(1, "type_ambiguous")]


def test_questions_without_numbers() -> None:
    result = parse(
        "【单选题】题干一\nA. 甲\nB. 乙\n答案：A\n解析：说明。\n"
        "题干二\nA. 甲\nB. 乙\n答案：B\n"
        "题干三\n答案：对\n"
    )
    assert result.issues == []
    assert [(q.line, q.type, q.stem, q.explanation) for q in result.questions] == [
        (1, "single", "题干一", "说明。"),
        (6, "single", "题干二", ""),
        (10, "true_false", "题干三", ""),
    ]


def test_document_title_and_headings_before_the_first_question_are_allowed() -> None:
    result = parse("2024年度应知应会测试题\n（闭卷，考试时间60分钟）\n\n" + SINGLE)
    assert result.issues == []
    assert len(result.questions) == 1


def test_option_line_among_headings_is_reported() -> None:
    result = parse("应知应会测试题\n一、单选题\nA. 卷\n" + SINGLE)
    assert codes(result) == [(3, "text_unexpected_line")]
    assert len(result.questions) == 1


def test_title_followed_by_options_reads_as_a_question_and_is_reported() -> None:
    # Word's automatic numbering drops the "1.", so a line followed by options is a question:
    # here an incomplete one, reported on its line rather than ignored.
    result = parse("测试题\nA. 卷\n" + SINGLE)
    assert codes(result) == [(1, "type_ambiguous")]
    assert [q.line for q in result.questions] == [3]


def test_parse_text_lines_keeps_the_given_numbers() -> None:
    result = parse_text_lines(
        [(10, "1.【单选题】题干"), (12, "A. 甲"), (12, "A. 乙"), (13, "B. 丙"), (15, "答案：A")], "docx"
    )
    assert result.format == "docx"
    assert result.encoding is None
    assert codes(result) == [(12, "duplicate_option_letter")]
    assert result.rejected[0].line == 10


# Malformed input, one case each ----------------------------------------------------------------


def test_empty_stem() -> None:
    result = parse("1.【单选题】\nA. 甲\nB. 乙\n答案：A\n")
    assert codes(result) == [(1, "empty_stem")]
    assert result.issues[0].field == "stem"


def test_duplicate_option_letter() -> None:
    result = parse("1.【单选题】题干\nA. 甲\nB. 乙\nB. 丙\n答案：A\n")
    assert codes(result) == [(4, "duplicate_option_letter")]
    assert result.issues[0].params == {"letter": "B"}
    assert result.questions == []
    assert "B" in result.issues[0].message


def test_duplicate_option_letter_on_one_line() -> None:
    result = parse("1.【单选题】题干\nA.甲  B.乙\nA.丙\n答案：A\n")
    assert codes(result) == [(3, "duplicate_option_letter")]


def test_option_letters_out_of_order() -> None:
    result = parse("1.【单选题】题干\nA. 甲\nC. 乙\n答案：A\n")
    assert codes(result) == [(3, "option_letter_out_of_order")]
    assert result.issues[0].params == {"letter": "C", "expected": "B"}


def test_answer_naming_a_missing_option() -> None:
    result = parse("1.【单选题】题干\nA. 甲\nB. 乙\n答案：D\n")
    assert codes(result) == [(4, "answer_out_of_range")]  # on the answer line
    assert result.issues[0].field == "answer"


def test_two_answers_for_a_single_choice() -> None:
    result = parse("1.【单选题】题干\nA. 甲\nB. 乙\n答案：A,B\n")
    assert codes(result) == [(4, "single_needs_one_answer")]


def test_answer_written_twice() -> None:
    result = parse("1.【单选题】题干\nA. 甲\nB. 乙\n答案：A\n答案：B\n")
    assert codes(result) == [(5, "text_duplicate_field")]
    assert result.questions == []


def test_missing_answer() -> None:
    result = parse("1.【单选题】题干\nA. 甲\nB. 乙\n2.【单选题】题干二\nA. 甲\nB. 乙\n答案：A\n")
    assert codes(result) == [(1, "answer_required")]
    assert [q.line for q in result.questions] == [4]


def test_unknown_type_word() -> None:
    result = parse("1.【综合题】题干\nA. 甲\nB. 乙\n答案：A\n")
    assert codes(result) == [(1, "unknown_type")]
    assert result.issues[0].params == {"type": "综合题"}


def test_unknown_type_field() -> None:
    result = parse("1. 题干\nA. 甲\nB. 乙\n答案：A\n题型：选择判断\n")
    assert codes(result) == [(5, "unknown_type")]


@pytest.mark.parametrize("word", ["简答题", "论述题", "案例分析题", "问答题", "名词解释"])
def test_unsupported_type_is_an_error_not_dropped(word: str) -> None:
    result = parse(
        f"1.【{word}】简述“三个规定”的主要内容。\n答案：防止干预司法。\n{SINGLE.replace('1.', '2.')}"
    )
    assert codes(result) == [(1, "unsupported_type")]
    assert result.rejected[0].type == word
    assert len(result.questions) == 1


def test_option_lines_with_no_question() -> None:
    result = parse("A. 甲\nB. 乙\n答案：A\n" + SINGLE.replace("1.", "2."))
    assert codes(result) == [
        (1, "text_unexpected_line"),
        (2, "text_unexpected_line"),
        (3, "text_unexpected_line"),
    ]
    assert len(result.questions) == 1


def test_options_after_an_answered_question_are_not_filed_under_it() -> None:
    result = parse(SINGLE + "解析：说明。\nA. 丙\nB. 丁\n答案：B\n")
    assert codes(result) == [
        (6, "text_unexpected_line"),
        (7, "text_unexpected_line"),
        (8, "text_unexpected_line"),
    ]
    assert [(q.options, q.answer, q.explanation) for q in result.questions] == [
        (["逢问必录", "选择性记录"], 0, "说明。")
    ]


def test_garbage_line_after_a_question() -> None:
    result = parse(SINGLE + "这是一行无关的内容\n2.【判断题】题干\n答案：对\n")
    assert codes(result) == [(5, "text_unexpected_line")]
    assert result.issues[0].params == {"text": "这是一行无关的内容"}
    assert len(result.questions) == 2


def test_issues_are_in_line_order() -> None:
    result = parse("1.【单选题】题干\nA. 甲\nB. 乙\n答案：D\n多余的一行\n难度：9\n")
    assert codes(result) == [
        (4, "answer_out_of_range"),
        (5, "text_unexpected_line"),
        (6, "invalid_difficulty"),
    ]


def test_bad_difficulty_and_points_point_at_their_lines() -> None:
    result = parse(SINGLE + "难度：9\n分值：零\n")
    assert codes(result) == [(5, "invalid_difficulty"), (6, "invalid_points")]


def test_binary_garbage_is_refused() -> None:
    with pytest.raises(FileRejected) as refused:
        parse_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert refused.value.code == "binary_file"


def test_wrong_encoding_is_refused() -> None:
    # Neither UTF-8 nor GB18030 (0x80 and 0xFF are not GB18030 lead bytes): never guessed.
    with pytest.raises(FileRejected) as refused:
        parse_text("1.【单选题】题干".encode() + b"\x80\xff\x80\xff")
    assert refused.value.code == "unknown_encoding"


def test_utf16_text_with_bom_is_read() -> None:
    result = parse_text(SINGLE.encode("utf-16"))
    assert result.encoding == "utf-16"
    assert len(result.questions) == 1


def test_empty_file_is_refused() -> None:
    with pytest.raises(FileRejected) as refused:
        parse_text(b"")
    assert refused.value.code == "empty_file"


def test_file_without_questions_is_refused() -> None:
    with pytest.raises(FileRejected) as refused:
        parse_text("应知应会测试题\n\n　　\n".encode())
    assert refused.value.code == "no_questions"


def test_many_questions() -> None:
    text = "".join(f"{n}.【单选题】第{n}题（ ）\nA. 甲\nB. 乙{n}\n答案：B\n" for n in range(1, 2001))
    result = parse(text)
    assert result.issues == []
    assert [q.line for q in result.questions] == list(range(1, 8001, 4))


# Round trip: content rendered in the text format parses back to the same content -------------

CJK = "的是法规定干警司法三个记录领导案件过问应当全程留痕人员公正廉洁纪律监督"
words = st.text(alphabet=CJK, min_size=1, max_size=12)

TYPE_WORDS = {
    "single": ["单选题", "单项选择题", "单选"],
    "multiple": ["多选题", "多项选择题", "不定项选择题"],
    "true_false": ["判断题", "判断"],
    "fill_blank": ["填空题"],
}
TRUE_FALSE_WORDS = [("正确", "错误"), ("对", "错"), ("√", "×"), ("是", "否"), ("T", "F")]
NUMBERS = ["{n}.", "{n}、", "{n}．", "（{n}）", "({n})", "第{n}题"]
OPTION_MARKERS = ["{L}. ", "{L}、", "{L}．", "({L})", "（{L}）", "{L})", "{L}:", "{L}：", "{l}."]
ANSWER_LABELS = ["答案：", "答案: ", "【答案】", "正确答案：", "参考答案："]
LETTER_JOINS = ["", ",", "、", ";", "，"]
PADS = ["", " ", "　", "\u3000\u3000"]


@dataclass
class Content:
    type: str
    stem: str
    options: list[str]
    answer: Any
    explanation: str
    difficulty: int
    points: int
    area: str
    tags: list[str] = field(default_factory=list)


@st.composite
def contents(draw: st.DrawFn) -> Content:
    kind = draw(st.sampled_from(list(TYPE_WORDS)))
    options: list[str] = []
    if kind == "fill_blank":
        blanks = draw(st.integers(1, 3))
        pieces = draw(st.lists(words, min_size=blanks + 1, max_size=blanks + 1))
        stem = "____".join(pieces)
        answer: Any = draw(
            st.lists(st.lists(words, min_size=1, max_size=3), min_size=blanks, max_size=blanks)
        )
    else:
        stem = draw(words) + draw(st.sampled_from(["", "（ ）", "（ ）。"]))
        if kind == "true_false":
            answer = draw(st.booleans())
        else:
            options = draw(st.lists(words, min_size=2, max_size=8, unique=True))
            if kind == "single":
                answer = draw(st.integers(0, len(options) - 1))
            else:
                answer = sorted(
                    draw(
                        st.lists(
                            st.integers(0, len(options) - 1), min_size=2, max_size=len(options), unique=True
                        )
                    )
                )
    explanation = draw(st.one_of(st.just(""), words, st.builds(lambda a, b: f"{a}\n{b}", words, words)))
    area = draw(st.one_of(st.just(""), st.lists(words, min_size=1, max_size=3).map("/".join)))
    tags = draw(st.lists(words, max_size=3, unique=True))
    return Content(
        kind,
        stem,
        options,
        answer,
        explanation,
        draw(st.integers(1, 5)),
        draw(st.integers(1, 100)),
        area,
        tags,
    )


@st.composite
def documents(draw: st.DrawFn) -> tuple[list[Content], str]:
    """Questions and their text, in a random mix of the variants admins write."""
    questions = draw(st.lists(contents(), min_size=1, max_size=6))
    number_style = draw(st.sampled_from(NUMBERS))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("应知应会测试题")
    section: str | None = None
    headings = iter("一二三四五六七八九十")

    def pad(text: str) -> str:
        return draw(st.sampled_from(PADS)) + text + draw(st.sampled_from(PADS))

    for number, question in enumerate(questions, start=1):
        kind = question.type
        inferable = kind != "fill_blank"
        mode = draw(st.sampled_from(["tag", "heading", "infer"] if inferable else ["tag", "heading"]))
        if mode == "infer" and section not in (None, kind):
            mode = "tag"
        if mode == "heading":
            section = kind
            lines.append(f"{next(headings, '十')}、{draw(st.sampled_from(TYPE_WORDS[kind]))}（每题1分）")
        tag = f"【{draw(st.sampled_from(TYPE_WORDS[kind]))}】" if mode == "tag" else ""
        numbered = draw(st.booleans()) or not tag or "(" in number_style or "（" in number_style
        prefix = number_style.format(n=number) if numbered else ""

        letters = ""
        if kind in ("single", "multiple"):
            letters = "".join(
                "ABCDEFGH"[i] for i in (question.answer if kind == "multiple" else [question.answer])
            )
        if kind == "true_false":
            truth, falsehood = draw(st.sampled_from(TRUE_FALSE_WORDS))
            answer_text = truth if question.answer else falsehood
        elif kind == "fill_blank":
            answer_text = "|".join(";".join(blank) for blank in question.answer)
        else:
            answer_text = draw(st.sampled_from(LETTER_JOINS)).join(letters)
            if draw(st.booleans()):
                answer_text = answer_text.translate(str.maketrans("ABCDEFGH", "ＡＢＣＤＥＦＧＨ"))
        stem = question.stem
        # In a stem only letters and the unmistakable true/false marks are read as the answer.
        in_stem = kind != "fill_blank" and "（ ）" in stem and draw(st.booleans())
        if in_stem and kind == "true_false":
            answer_text = draw(
                st.sampled_from(["正确", "对", "√"] if question.answer else ["错误", "错", "×"])
            )
        if in_stem:
            stem = stem.replace("（ ）", f"（{answer_text}）")
        lines.append(pad(f"{prefix}{tag}{stem}"))

        if question.options:
            marker = draw(st.sampled_from(OPTION_MARKERS))
            rendered = [
                marker.format(L="ABCDEFGH"[i], l="abcdefgh"[i]) + text
                for i, text in enumerate(question.options)
            ]
            if draw(st.booleans()):
                lines.append(pad(draw(st.sampled_from(["  ", "\t", "　"])).join(rendered)))
            else:
                lines.extend(pad(line) for line in rendered)
        if not in_stem:
            lines.append(pad(draw(st.sampled_from(ANSWER_LABELS)) + answer_text))
        if question.explanation:
            lines.append(
                pad(draw(st.sampled_from(["解析：", "【解析】", "答案解析："])) + question.explanation)
            )
        fields = [f"难度：{question.difficulty}", f"分值：{question.points}"]
        if question.area:
            fields.append(f"知识点：{question.area}")
        if question.tags:
            fields.append("标签：" + draw(st.sampled_from([",", "、", "，"])).join(question.tags))
        if draw(st.booleans()):
            lines.append("　".join(fields))
        else:
            lines.extend(pad(line) for line in fields)
        if draw(st.booleans()):
            lines.append("")
    return questions, "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None)
@given(documents())
def test_rendered_content_parses_back_the_same(document: tuple[list[Content], str]) -> None:
    questions, text = document
    result = parse(text)
    assert result.issues == [], text
    parsed = [q.content() for q in result.questions]
    assert parsed == [vars(q) for q in questions], text
