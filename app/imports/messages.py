"""The texts of import problems, by stable code: zh-CN (what admins read) and English.

Each text says what is wrong and how to fix it. Parameters are filled with str.format; a parser
with codes of its own registers them with `register` at import time.
"""

from typing import Any

ZH: dict[str, str] = {
    # the question itself
    "empty_stem": "题干为空：请填写题目内容。",
    "too_long": "内容过长（{length} 字，上限 {limit} 字）：请精简后再导入。",
    "unknown_type": "无法识别的题型“{type}”：请填写 单选题、多选题、判断题 或 填空题。",
    "unsupported_type": "暂不支持“{type}”题型（只支持单选、多选、判断、填空）：请改写为这四种题型之一，或从文件中删除该题。",
    "type_ambiguous": "未填写题型，且无法从答案唯一判断：请写明题型（单选题、多选题、判断题、填空题）。",
    "invalid_difficulty": "难度“{value}”无效：请填写 1 到 5 的整数（1 最易，5 最难），或 易、较易、中、较难、难。",
    "invalid_points": "分值“{value}”无效：请填写 1 到 {limit} 的整数。",
    "invalid_area": "知识点“{value}”无效：用“/”分隔各级，如 警示教育/三个规定，各级不能为空。",
    "too_many_tags": "标签过多：每题最多 {limit} 个标签。",
    "options_not_allowed": "{type} 题不应有选项：请删除选项，或改为选择题。",
    "too_few_options": "选项不足：选择题至少需要 2 个选项（多选题至少 3 个更合理）。",
    "too_many_options": "选项过多：最多支持 8 个选项（A 到 H）。",
    "empty_option": "有空选项：请删除空选项或补全内容，选项须连续填写。",
    "duplicate_option": "有两个选项内容相同：请修改重复的选项。",
    "answer_required": "缺少答案：请填写正确答案。",
    "answer_not_letters": "答案“{answer}”不是选项字母：选择题答案请写字母，如 B 或 ABD（可用 A,B、A、B 分隔）。",
    "answer_out_of_range": "答案中的 {letter} 不对应任何选项（本题选项为 A 到 {last}）：请核对答案或补全选项。",
    "single_needs_one_answer": "单选题只能有一个答案，但写了“{answer}”：请只保留一个字母，或把题型改为多选题。",
    "multiple_needs_two_answers": "多选题至少要有两个正确选项：请补全答案，或把题型改为单选题。",
    "duplicate_answer": "答案中同一个选项出现了两次：请删除重复的字母。",
    "answer_not_true_false": "判断题答案“{answer}”无法识别：请写 正确/错误、对/错、√/×、是/否 或 T/F。",
    "invalid_answer": "答案格式不正确：单选写一个字母，多选写两个以上字母，判断写 正确/错误，填空的多个空用 | 分隔、同一空的多个答案用 ; 分隔。",
    "empty_blank": "填空题有空的答案：每个空至少要有一个可接受的答案，多个空用 | 分隔，同一空的多个答案用 ; 分隔。",
    "no_blanks": "填空题题干中没有空：请用 ____（至少三个下划线）标出每个空。",
    "blank_count_mismatch": "题干中有 {stem_blanks} 个空（____），答案却有 {answer_blanks} 个：多个空的答案用 | 分隔，同一空的多个可接受答案用 ; 分隔。",
    # the file as a whole
    "file_too_large": "文件过大（{size_mb} MB，上限 {limit_mb} MB）：请拆分后分批导入。",
    "empty_file": "文件是空的：请检查是否选错了文件。",
    "no_questions": "文件中没有找到任何题目：请对照模板检查格式。",
    "not_a_zip": "文件扩展名为 {ext}，但内容不是该格式（可能是改了扩展名的其他文件）：请用 Excel 或 Word 另存为 {ext} 后再导入。",
    "zip_too_many_entries": "文件内部条目过多（{count} 个，上限 {limit} 个），疑似异常文件，已拒绝。",
    "zip_too_large": "文件解压后过大（{size_mb} MB，上限 {limit_mb} MB），疑似压缩炸弹，已拒绝。",
    "zip_ratio": "文件内部条目“{name}”压缩比异常（{ratio} 倍），疑似压缩炸弹，已拒绝。",
    "zip_encrypted": "文件已加密或受密码保护：请取消密码后再导入。",
    "corrupt_file": "文件已损坏，无法读取（{detail}）：请用 Excel 或 Word 重新保存后再导入。",
    "binary_file": "文件不是文本文件（含有二进制内容）：请确认文件格式。",
    "unknown_encoding": "无法识别文件编码（既不是 UTF-8 也不是 GB18030/GBK）：请用 Excel“另存为 CSV UTF-8”后再导入。",
    "unknown_format": "无法识别文件格式“{name}”：支持 .xlsx、.csv、.docx、.txt、.json、.gift、.aiken、.yaml。",
    "old_excel_format": "不支持旧版 Excel（.xls）格式：请在 Excel 中另存为 .xlsx 后再导入。",
    "old_word_format": "不支持旧版 Word（.doc）格式：请在 Word 中另存为 .docx 后再导入。",
    "missing_column": "缺少必需的列“{column}”：请使用下载的模板，表头放在第一行。",
    "duplicate_column": "列“{column}”出现了两次：请删除重复的列。",
    "unknown_column": "无法识别的列“{column}”：该列将被忽略；如果是必需信息，请对照模板修改表头。",
    "too_many_rows": "行数过多（{count} 行，上限 {limit} 行）：请拆分后分批导入。",
}

EN: dict[str, str] = {
    "empty_stem": "The question text is empty: fill it in.",
    "too_long": "Too long ({length} characters, limit {limit}): shorten it.",
    "unknown_type": "Unknown question type “{type}”: use single, multiple, true/false or fill-in-the-blank.",
    "unsupported_type": "Question type “{type}” is not supported (only single, multiple, true/false and "
    "fill-in-the-blank): rewrite it as one of those or remove it from the file.",
    "type_ambiguous": "No question type and the answer does not settle it: state the type.",
    "invalid_difficulty": "Difficulty “{value}” is invalid: use a whole number from 1 (easiest) to 5 (hardest).",
    "invalid_points": "Points “{value}” is invalid: use a whole number from 1 to {limit}.",
    "invalid_area": "Knowledge area “{value}” is invalid: separate levels with “/”, none of them empty.",
    "too_many_tags": "Too many tags: at most {limit} per question.",
    "options_not_allowed": "A {type} question has no options: remove them or make it a choice question.",
    "too_few_options": "Too few options: a choice question needs at least 2.",
    "too_many_options": "Too many options: at most 8 (A to H).",
    "empty_option": "An option is empty: fill it in or remove it; options must be consecutive.",
    "duplicate_option": "Two options have the same text: change one of them.",
    "answer_required": "The answer is missing: fill it in.",
    "answer_not_letters": "Answer “{answer}” is not option letters: write letters such as B or ABD.",
    "answer_out_of_range": "Answer letter {letter} names no option (this question has A to {last}).",
    "single_needs_one_answer": "A single-choice question has one answer but “{answer}” names more: keep one "
    "letter or make it a multiple-choice question.",
    "multiple_needs_two_answers": "A multiple-choice question needs at least two correct options.",
    "duplicate_answer": "The answer names the same option twice: remove the repeated letter.",
    "answer_not_true_false": "True/false answer “{answer}” is not recognised: write 正确/错误, 对/错, √/×, "
    "是/否 or T/F.",
    "invalid_answer": "The answer is not valid: one letter for single choice, two or more for multiple choice, "
    "正确/错误 for true/false, | between blanks and ; between accepted texts of one blank.",
    "empty_blank": "A blank has no accepted answer: separate blanks with | and accepted texts of one blank with ;.",
    "no_blanks": "The question has no blanks: mark each blank with ____ (three or more underscores).",
    "blank_count_mismatch": "The text has {stem_blanks} blanks (____) but the answer has {answer_blanks}: "
    "separate blanks with | and accepted texts of one blank with ;.",
    "file_too_large": "The file is too large ({size_mb} MB, limit {limit_mb} MB): split it.",
    "empty_file": "The file is empty.",
    "no_questions": "No questions were found in the file: compare it with the template.",
    "not_a_zip": "The file is named {ext} but its content is not that format (perhaps a renamed file): save "
    "it as {ext} from Excel or Word.",
    "zip_too_many_entries": "The file has too many internal entries ({count}, limit {limit}); refused.",
    "zip_too_large": "The file unpacks too large ({size_mb} MB, limit {limit_mb} MB), like a zip bomb; refused.",
    "zip_ratio": "Entry “{name}” has an abnormal compression ratio ({ratio}x), like a zip bomb; refused.",
    "zip_encrypted": "The file is encrypted or password-protected: remove the password first.",
    "corrupt_file": "The file is damaged and cannot be read ({detail}): save it again from Excel or Word.",
    "binary_file": "The file is not a text file (it has binary content).",
    "unknown_encoding": "The file's encoding is neither UTF-8 nor GB18030/GBK: save it as “CSV UTF-8”.",
    "unknown_format": "Unknown file format “{name}”: use .xlsx, .csv, .docx, .txt, .json, .gift, .aiken or .yaml.",
    "old_excel_format": "Old Excel (.xls) files are not supported: save it as .xlsx.",
    "old_word_format": "Old Word (.doc) files are not supported: save it as .docx.",
    "missing_column": "Required column “{column}” is missing: use the template, headers in the first row.",
    "duplicate_column": "Column “{column}” appears twice: remove one.",
    "unknown_column": "Column “{column}” is not recognised and is ignored.",
    "too_many_rows": "Too many rows ({count}, limit {limit}): split the file.",
}


def register(zh: dict[str, str], en: dict[str, str]) -> None:
    """Add a parser's own codes (both languages, same keys)."""
    assert zh.keys() == en.keys(), "every code needs both languages"
    ZH.update(zh)
    EN.update(en)


def message(code: str, language: str = "zh-CN", **params: Any) -> str:
    table = EN if language == "en" else ZH
    template = table.get(code, code)
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
