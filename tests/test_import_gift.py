"""Moodle GIFT: the parser on hand-written and Moodle-exported files, malformed input, and the
writer's lossless round trip through the parser (hypothesis)."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.imports.common import ParsedQuestion, ParseResult
from app.imports.files import FileRejected, detect_format
from app.imports.messages import EN, ZH
from app.imports.parsers.gift import parse_gift
from app.imports.writers.gift import write_gift
from tests.test_import_json import assert_messages_filled, contents, questions

FIXTURES = Path(__file__).parent / "fixtures" / "imports" / "moodle"


def gift(text: str) -> ParseResult:
    return parse_gift(text.encode("utf-8"))


def only(text: str) -> ParsedQuestion:
    result = gift(text)
    assert result.issues == []
    assert len(result.questions) == 1
    return result.questions[0]


def question(**fields: object) -> ParsedQuestion:
    values: dict[str, object] = {
        "type": "single",
        "stem": "题干",
        "options": ["甲", "乙"],
        "answer": 0,
        "explanation": "",
        "difficulty": 2,
        "points": 1,
        "area": "",
        "tags": [],
    }
    values.update(fields)
    return ParsedQuestion(**values)  # type: ignore[arg-type]


# Files ------------------------------------------------------------------------------------------


def test_hand_written_file_reads_all_four_types() -> None:
    result = parse_gift((FIXTURES / "good.gift.txt").read_bytes())
    assert result.issues == []
    assert (result.format, result.encoding) == ("gift", "utf-8")
    found = {q.line: q for q in result.questions}
    assert list(found) == [5, 13, 22, 24, 26, 31, 37]
    assert found[5].content() == {
        "type": "single",
        "stem": "防止干预司法“三个规定”的核心做法是？",
        "options": ["逢问必录", "选择性记录", "事后补录"],
        "answer": 0,
        "explanation": "防止干预司法“三个规定”的核心做法是逢问必录。",
        "difficulty": 2,
        "points": 1,
        "area": "警示教育/三个规定",
        "tags": [],
    }
    multiple = found[13]
    assert (multiple.type, multiple.answer, multiple.options[2]) == ("multiple", [0, 1], "依法办理减刑、假释")
    # Our comment carries what GIFT has no place for.
    assert (multiple.difficulty, multiple.points, multiple.tags) == (3, 2, ["顽瘴痼疾", "警示教育"])
    assert (found[22].type, found[22].answer, found[22].area) == ("true_false", True, "教育整顿基本知识/环节")
    assert found[22].explanation == "三个环节依次为学习教育、查纠整改、总结提升。"
    assert (found[24].answer, found[24].explanation) == (False, "")
    # The answer block in the middle of the text is the blank.
    assert found[26].stem == "教育整顿的三个环节依次为学习教育、____、总结提升。"
    assert (found[26].type, found[26].answer, found[26].points) == ("fill_blank", [["查纠整改"]], 2)
    # Escaped characters are text.
    assert found[31].stem == "民法典共有几编（不含附则）？{说明: 数字}"
    assert found[31].options == ["7 编", "1 260 编# 条", "3 = 2 + 1"]
    assert found[31].area == "法律法规基础"
    # A short answer at the end: the blank goes after the text; = starts each accepted text.
    assert (found[37].stem, found[37].answer) == (
        "国家宪法日是每年的哪一天？____",
        [["12月4日", "十二月四日"]],
    )


def test_moodle_export_with_html_and_tags() -> None:
    result = parse_gift((FIXTURES / "moodle_export.gift.txt").read_bytes())
    assert result.issues == []
    single, multiple, true_false, fill = result.questions
    assert single.stem == "“四个意识”不包括下列哪一项？"
    assert (single.options, single.answer) == (["政治意识", "大局意识", "法治意识", "看齐意识"], 2)
    assert single.explanation == "四个意识是政治意识、大局意识、核心意识、看齐意识。"
    assert single.tags == ["四个意识", "政治教育"]
    assert single.area == "Default for 应知应会/政治教育"
    assert (multiple.type, multiple.answer) == ("multiple", [0, 1, 2])
    assert (true_false.stem, true_false.answer) == ("中国人民警察节是每年 1 月 10 日。", True)
    assert (fill.stem, fill.answer) == ("党史学习教育于 2021 年哪个月启动？____", [["2月", "二月"]])


def test_malformed_file_reports_each_question_and_reads_on() -> None:
    result = parse_gift((FIXTURES / "malformed.gift.txt").read_bytes())
    found = [(i.line, i.code, i.params.get("problem") or i.params.get("kind")) for i in result.issues]
    assert found == [
        (3, "gift_syntax", "unclosed_brace"),
        (7, "gift_syntax", "unopened_brace"),
        (9, "gift_title_unclosed", None),
        (11, "gift_unsupported_type", "essay"),
        (13, "gift_unsupported_type", "numerical"),
        (15, "gift_unsupported_type", "matching"),
        (17, "gift_unsupported_type", "description"),
        (19, "gift_weights", "several_right_answers"),
        (21, "gift_weights", "partial_credit"),
        (23, "gift_weights", "weights_not_100"),
        (25, "answer_required", None),
        (28, "gift_meta_invalid", "not_json"),
        (30, "gift_several_blocks", None),
        (32, "blank_count_mismatch", None),
        (35, "invalid_difficulty", None),
    ]
    # Every question is accounted for, at the line where its text starts.
    assert [r.line for r in result.rejected] == [line for line, _code, _ in found]
    # Types we know are kept for the preview table.
    assert [r.type for r in result.rejected] == [
        *["", "", ""],
        *["essay", "numerical", "matching", "description"],
        *["", "", "", "", "", ""],
        *["fill_blank", "true_false"],
    ]
    assert result.rejected[0].stem.startswith("未闭合的答案块 {")
    assert [(q.line, q.stem) for q in result.questions] == [(37, "中国人民警察节是每年 1 月 10 日。")]
    assert_messages_filled(result.issues)
    syntax = result.issues[0]
    assert "花括号不配对" in syntax.message and "\\{ 和 \\}" in syntax.message
    assert "braces do not match" in syntax.message_en
    assert "数值题（numerical）" in result.issues[4].message


def test_unsupported_types_are_never_converted() -> None:
    for text, kind in (
        ("简述。{}", "essay"),
        ("简述。{####参考答案}", "essay"),
        ("数值。{#5:1}", "numerical"),
        ("匹配。{=a -> b =c -> d}", "matching"),
        ("没有答案块", "description"),
    ):
        result = gift(text)
        assert result.questions == []
        assert [(i.code, i.params["kind"], i.field) for i in result.issues] == [
            ("gift_unsupported_type", kind, "type")
        ]
        assert result.rejected[0].type == kind


# Parsing details -----------------------------------------------------------------------------


def test_escapes_and_moodle_newline() -> None:
    parsed = only(r"a\{b\}c\:d\=e\#f\~g\\h\ni\>j 普通\反斜杠{T####解析\n第二行}")
    assert parsed.stem == "a{b}c:d=e#f~g\\h\ni>j 普通\\反斜杠"
    assert parsed.explanation == "解析\n第二行"


def test_title_comments_and_format_markers_are_stripped() -> None:
    parsed = only("// 注释\n::标题::[markdown]题干 **加粗**{\n=[plain]甲#反馈\n~乙\n}")
    assert (parsed.stem, parsed.options) == ("题干 **加粗**", ["甲", "乙"])
    html = only("[html]<p>甲 &lt; 乙<br>第二行</p>{=<b>对</b> ~错 ####<i>因为</i>}")
    assert (html.stem, html.options, html.explanation) == ("甲 < 乙\n第二行", ["对", "错"], "因为")


def test_multiline_question_text_keeps_its_lines() -> None:
    parsed = only("第一行\n第二行{\n~甲\n=乙\n}")
    assert (parsed.stem, parsed.answer) == ("第一行\n第二行", 1)


def test_missing_word_choice_puts_a_blank_in_the_stem() -> None:
    parsed = only("人民警察节是 {~12月4日 =1月10日} 。")
    assert (parsed.type, parsed.stem, parsed.answer) == ("single", "人民警察节是 ____ 。", 1)


def test_short_answer_keeps_a_blank_already_in_the_text() -> None:
    parsed = only("人民警察的宗旨是____。{=全心全意为人民服务}")
    assert (parsed.stem, parsed.answer) == ("人民警察的宗旨是____。", [["全心全意为人民服务"]])


def test_several_short_answer_blocks_are_several_blanks() -> None:
    parsed = only("民法典自{=2021}年{=1 =一}月1日起施行。")
    assert (parsed.stem, parsed.answer) == ("民法典自____年____月1日起施行。", [["2021"], ["1", "一"]])


def test_true_false_words() -> None:
    for word, value in (("T", True), ("TRUE", True), ("F", False), ("FALSE", False), ("true", True)):
        assert only(f"说法。{{{word}#错时反馈#对时反馈}}").answer is value


def test_moodle_short_answer_weights() -> None:
    assert only("问？{=%100%甲# =%100%乙#}").answer == [["甲", "乙"]]
    result = gift("问？{=%100%甲 =%50%乙}")
    assert [(i.code, i.params["problem"]) for i in result.issues] == [("gift_weights", "partial_credit")]


def test_multiple_choice_weights() -> None:
    parsed = only("问？{~%33.33333%甲 ~%33.33333%乙 ~%33.33333%丙 ~丁}")
    assert (parsed.type, parsed.answer) == ("multiple", [0, 1, 2])
    assert only("问？{~%50%甲 ~%50%乙 ~%-50%丙}").answer == [0, 1]
    # A single positive weight of 100% is a multiple-choice question with one answer: an error
    # that says so, not a silent change of type.
    result = gift("问？{~%100%甲 ~乙 ~丙}")
    assert [i.code for i in result.issues] == ["multiple_needs_two_answers"]
    assert [i.params["problem"] for i in gift("问？{~%150%甲 ~%-50%乙}").issues] == ["weight_out_of_range"]
    # Text before the first marker is an answer, as Moodle reads it.
    assert only("问？{甲 ~乙 =丙}").options == ["甲", "乙", "丙"]


@pytest.mark.parametrize(
    ("line", "area"),
    [
        ("$CATEGORY: $course$/top/警示教育/三个规定", "警示教育/三个规定"),
        ("$CATEGORY: $system$/top/警示教育", "警示教育"),
        ("$CATEGORY: top/警示教育", "警示教育"),
        ("$CATEGORY: 警示教育 / 三个规定", "警示教育/三个规定"),
        ("$CATEGORY: $course$/top", ""),
        ("$CATEGORY: $course$/top/top/甲", "top/甲"),
    ],
)
def test_category_lines_set_the_area_of_the_questions_after_them(line: str, area: str) -> None:
    result = gift(f"之前{{T}}\n\n{line}\n\n之后{{T}}\n\n{line}\n同一段里{{F}}")
    assert [q.area for q in result.questions] == ["", area, area]


def test_an_invalid_category_is_an_error_for_its_questions() -> None:
    result = gift("$CATEGORY: 甲//乙\n\n题{T}")
    assert [(i.code, i.line) for i in result.issues] == [("invalid_area", 3)]


def test_meta_comment_problems() -> None:
    for comment, problem in (
        ('// yingzhi: {"difficulty": "3"}', "difficulty"),
        ('// yingzhi: {"level": 3}', "fields"),
        ('// yingzhi: {"tags": "a,b"}', "tags"),
        ('// yingzhi: {"points": 1}\n// yingzhi: {"points": 2}', "several_lines"),
    ):
        result = gift(f"{comment}\n题{{T}}")
        assert [(i.code, i.params["problem"]) for i in result.issues] == [("gift_meta_invalid", problem)]
    assert only('// yingzhi: {"points": 5}\n// [tag:甲] [tag:乙\\]丙]\n题{T}').tags == ["甲", "乙]丙"]


def test_a_blank_line_inside_a_question_splits_it_and_both_halves_are_reported() -> None:
    result = gift("题干\n\n{=甲 ~乙}")
    assert [(i.line, i.code) for i in result.issues] == [(1, "gift_unsupported_type"), (3, "empty_stem")]


@pytest.mark.parametrize("text", ["", "// 只有注释\n\n// 还有注释", "$CATEGORY: 甲\n\n"])
def test_a_file_without_questions_is_refused(text: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse_gift(text.encode())
    assert caught.value.code in ("empty_file", "no_questions")


def test_gb18030_file() -> None:
    data = (FIXTURES / "good.gift.txt").read_text("utf-8").encode("gb18030")
    result = parse_gift(data)
    assert result.encoding == "gb18030"
    assert len(result.questions) == 7


def test_every_gift_code_has_both_languages() -> None:
    codes = [code for code in ZH if code.startswith("gift_")]
    assert sorted(codes) == sorted(
        [
            "gift_syntax",
            "gift_title_unclosed",
            "gift_several_blocks",
            "gift_unsupported_type",
            "gift_weights",
            "gift_meta_invalid",
        ]
    )
    assert all(code in EN for code in codes)


# Writing ----------------------------------------------------------------------------------------


def test_written_gift_is_moodle_gift() -> None:
    items = [
        question(area="警示教育/三个规定", explanation="因为: {甲}", tags=["三个规定", "a b"], difficulty=4),
        question(
            type="multiple", options=["甲", "乙", "丙"], answer=[0, 2], points=3, area="警示教育/三个规定"
        ),
        question(type="true_false", stem="说法。", options=[], answer=False),
        question(type="fill_blank", stem="宗旨是____。", options=[], answer=[["甲", "a->b"]], points=2),
    ]
    text = write_gift(items)
    assert text.startswith("// ")
    assert (
        "$CATEGORY: $course$/top/警示教育/三个规定\n\n"
        '// yingzhi: {"difficulty": 4, "points": 1, "tags": ["三个规定", "a b"]}\n'
        "::题干::题干{\n\t=甲\n\t~乙\n\t####因为\\: \\{甲\\}\n}\n\n"
    ) in text
    assert "::题干::题干{\n\t~%50%甲\n\t~%-100%乙\n\t~%50%丙\n}" in text
    # Back to the default area (Moodle's top category).
    assert "$CATEGORY: $course$/top\n\n" in text
    assert "::说法。::说法。{FALSE}" in text
    assert "::宗旨是____。::宗旨是{=甲 =a-\\>b}。" in text
    assert contents(gift(text).questions) == contents(items)


def test_writer_protects_text_that_would_read_as_syntax() -> None:
    items = [
        question(stem="[html]<b>不是 HTML</b>", options=["%50%甲", "//乙"], answer=1),
        question(stem="// 不是注释", type="true_false", options=[], answer=True),
        question(type="fill_blank", stem="____", options=[], answer=[["%20%", "[plain]x"]]),
        question(type="multiple", stem="$CATEGORY: 甲", options=["%1%a", "b", "c"], answer=[0, 1]),
    ]
    text = write_gift(items)
    assert "::[html]<b>不是 HTML</b>::[moodle][html]<b>不是 HTML</b>{" in text
    assert "\t~%0%%50%甲" in text
    assert "[moodle]// 不是注释{TRUE}" in text
    assert "{=%100%%20% =[moodle][plain]x}" in text
    assert "::$CATEGORY\\: 甲::$CATEGORY\\: 甲{" in text
    assert contents(gift(text).questions) == contents(items)


@settings(max_examples=300, deadline=None)
@given(st.lists(questions(), min_size=1, max_size=6))
def test_gift_round_trip_is_lossless(items: list[ParsedQuestion]) -> None:
    result = parse_gift(write_gift(items).encode("utf-8"))
    assert result.issues == []
    assert contents(result.questions) == contents(items)


_GIFTISH = st.text(st.sampled_from(list("{}=~#%:\\/[]$-> \n\tTFab题0")), max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_GIFTISH, st.text(max_size=200)))
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    try:
        result = parse_gift(text.encode("utf-8"))
    except FileRejected:
        return
    assert result.total == len(result.questions) + len(result.rejected) > 0
    issue_lines = {i.line for i in result.issues}
    assert all(r.line in issue_lines for r in result.rejected)
    assert_messages_filled(result.issues)


@pytest.mark.parametrize("kind", ["single", "multiple", "true_false", "fill_blank"])
def test_written_gift_is_detected_as_gift_when_saved_as_text(kind: str) -> None:
    items = {
        "single": question(),
        "multiple": question(type="multiple", answer=[0, 1]),
        "true_false": question(type="true_false", options=[], answer=True),
        "fill_blank": question(type="fill_blank", stem="甲____", options=[], answer=[["乙"]]),
    }
    assert detect_format("导出.gift.txt", write_gift([items[kind]]).encode()) == "gift"


def test_long_stems_make_short_one_line_titles() -> None:
    text = write_gift([question(stem="很长的题干:\n" + "甲" * 100)])
    assert f"::很长的题干\\: {'甲' * 33}::很长的题干\\:\\n" in text


def test_newlines_are_written_as_escapes_so_a_question_stays_one_paragraph() -> None:
    items = [question(stem="a\n\nb", explanation="x\n\ny", options=["甲\n\n乙", "丙"])]
    text = write_gift(items)
    assert "::a b::a\\n\\nb{" in text and "####x\\n\\ny" in text and "=甲\\n\\n乙" in text
    assert contents(gift(text).questions) == contents(items)
