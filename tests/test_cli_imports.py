"""`yingzhi import-bank`, `import-roster`, `bank-template`, `roster-template` as an operator runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_imports_api import BAD_YAML, GOOD_YAML

YINGZHI = [sys.executable, "-m", "app.cli"]


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [*YINGZHI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli")
    env = {
        **os.environ,
        "YINGZHI_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'cli.db'}",
        "YINGZHI_DEMO_MODE": "true",
        "YINGZHI_FOLDER": str(folder),
    }
    assert run(env, "db", "upgrade").returncode == 0
    created = run(env, "create-admin", "boss", "--password-stdin", stdin="strong-pass-2021x\n")
    assert created.returncode == 0, created.stderr
    return env


def write(env: dict[str, str], name: str, content: str | bytes) -> Path:
    path = Path(env["YINGZHI_FOLDER"]) / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def as_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def test_import_bank_previews_and_exits_non_zero_on_errors(cli_env: dict[str, str]) -> None:
    path = write(cli_env, "bad.yaml", BAD_YAML)
    done = run(cli_env, "import-bank", str(path), "--bank", "命令行题库", "--json")
    assert done.returncode == 1, done.stderr
    preview = as_json(done)
    assert preview["valid"] is False and preview["committed"] is False
    assert preview["counts"]["errors"] == 2
    error = next(e for e in preview["errors"] if e["code"] == "answer_out_of_range")
    assert error == {
        "line": 8,
        "row": None,
        "field": "answer",
        "code": "answer_out_of_range",
        "message": "答案中的 E 不对应任何选项（本题选项为 A 到 D）：请核对答案或补全选项。",
    }
    refused = run(cli_env, "import-bank", str(path), "--bank", "命令行题库", "--commit")
    assert refused.returncode == 1 and "未写入任何数据" in refused.stderr
    human = run(cli_env, "import-bank", str(path), "--bank", "命令行题库")
    assert human.returncode == 1 and "第 8 行「answer」 [answer_out_of_range]" in human.stdout
    assert "未写入任何数据" in human.stderr


def test_import_bank_commits_once(cli_env: dict[str, str]) -> None:
    path = write(cli_env, "good.yaml", GOOD_YAML)
    preview = run(cli_env, "import-bank", str(path), "--json")
    assert preview.returncode == 0 and as_json(preview)["valid"] is True
    assert as_json(preview)["new_knowledge_areas"] == ["政治教育", "未分类", "警示教育", "警示教育/新知识点"]
    committed = run(cli_env, "import-bank", str(path), "--commit", "--json")
    assert committed.returncode == 0, committed.stderr
    assert as_json(committed)["result"] == {"created": 3, "skipped_duplicates": 0, "areas_created": 4}
    again = run(cli_env, "import-bank", str(path), "--commit", "--json")
    assert as_json(again)["counts"]["duplicates_in_bank"] == 3 and as_json(again)["result"]["created"] == 0


def test_a_refused_file_exits_two(cli_env: dict[str, str]) -> None:
    path = write(cli_env, "fake.xlsx", b"not a workbook")
    done = run(cli_env, "import-bank", str(path), "--bank", "x", "--json")
    assert done.returncode == 2
    assert as_json(done)["code"] == "not_a_zip" and as_json(done)["valid"] is False


def test_templates_are_written(cli_env: dict[str, str]) -> None:
    import openpyxl

    folder = Path(cli_env["YINGZHI_FOLDER"])
    for command, name, sheet in (
        ("bank-template", "bank.xlsx", "题库"),
        ("roster-template", "roster.xlsx", "花名册"),
    ):
        done = run(cli_env, command, str(folder / name))
        assert done.returncode == 0, done.stderr
        book = openpyxl.load_workbook(folder / name)
        assert sheet in book.sheetnames and len(book.sheetnames) >= 2
