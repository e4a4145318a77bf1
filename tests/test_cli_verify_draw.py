"""`yingzhi verify-draw FILE`: recompute a spot session's draw from its published record."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from typer.testing import CliRunner

from app.cli import cli
from tests.factories import World, login
from tests.test_spot_api import create

API = "/api/v1"


def verify(tmp_path: Path, record: Any, name: str = "record.json") -> tuple[int, str]:
    path = tmp_path / name
    path.write_text(record if isinstance(record, str) else json.dumps(record), encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify-draw", str(path)])
    return result.exit_code, result.output


def run_command(path: Path) -> subprocess.CompletedProcess[str]:
    """`yingzhi verify-draw PATH` in its own process, as an operator runs it."""
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "app.cli", "verify-draw", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def published_record(client: AsyncClient, world: World, **overrides: Any) -> dict[str, Any]:
    """A drawn session's record exactly as the API publishes it."""
    inspector = await login(client, "inspector")
    spot = await create(client, world, **overrides)
    drawn = await client.post(f"{API}/spot/sessions/{spot['id']}/draw", headers=inspector)
    assert drawn.status_code == 200, drawn.text
    response = await client.get(f"{API}/spot/sessions/{spot['id']}/draw-record", headers=inspector)
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


async def test_a_published_draw_verifies_and_any_tampering_fails(
    client: AsyncClient, world: World, tmp_path: Path
) -> None:
    record = await published_record(client, world, draw_count=2)
    status, output = verify(tmp_path, record)
    assert status == 0, output
    for name in ("algorithm", "seed_commitment", "roster_hash", "drawn"):
        assert f"[OK]   {name}" in output
    assert "[FAIL]" not in output and "draw verified" in output

    other_seed = {**record, "seed": "0" * 64}
    status, output = verify(tmp_path, other_seed)
    assert status == 1 and "[FAIL] seed_commitment" in output and "NOT verified" in output

    swapped = {**record, "drawn": list(reversed(record["drawn"]))}
    status, output = verify(tmp_path, swapped)
    assert status == 1 and "[FAIL] drawn" in output
    assert "[OK]   seed_commitment" in output and "[OK]   roster_hash" in output

    someone_else = {
        **record,
        "drawn": [next(n for n, _ in record["roster"] if n not in record["drawn"]), *record["drawn"][1:]],
    }
    status, output = verify(tmp_path, someone_else)
    assert status == 1 and "[FAIL] drawn" in output

    fewer = {**record, "roster": record["roster"][1:]}
    status, output = verify(tmp_path, fewer)
    assert status == 1 and "[FAIL] roster_hash" in output

    other_user = {**record, "roster": [[record["roster"][0][0], 999_999], *record["roster"][1:]]}
    status, output = verify(tmp_path, other_user)
    assert status == 1 and "[FAIL] roster_hash" in output

    status, output = verify(tmp_path, {**record, "algorithm": "yingzhi-draw-v0"})
    assert status == 1 and "[FAIL] algorithm" in output

    status, output = verify(tmp_path, {**record, "count": 1})
    assert status == 1 and "[FAIL] drawn" in output


async def test_a_session_open_to_everyone_checks_its_commitments(
    client: AsyncClient, world: World, tmp_path: Path
) -> None:
    record = await published_record(client, world, draw_count=None)
    assert record["count"] is None and record["drawn"] is None
    status, output = verify(tmp_path, record)
    assert status == 0, output
    assert "nothing drawn" in output and "[OK]   seed_commitment" in output and "drawn:" not in output
    status, output = verify(tmp_path, {**record, "seed": "1" * 64})
    assert status == 1 and "[FAIL] seed_commitment" in output
    status, output = verify(tmp_path, {**record, "drawn": [record["roster"][0][0]]})
    assert status == 1 and "[FAIL] drawn" in output


async def test_files_that_are_not_draw_records_exit_2(
    client: AsyncClient, world: World, tmp_path: Path
) -> None:
    assert verify(tmp_path, "not json at all")[0] == 2
    assert verify(tmp_path, "")[0] == 2
    assert verify(tmp_path, [1, 2, 3])[0] == 2
    assert verify(tmp_path, {"algorithm": "yingzhi-draw-v1"})[0] == 2
    record = await published_record(client, world, draw_count=2)
    assert verify(tmp_path, {**record, "roster": "officer1"})[0] == 2
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    assert CliRunner().invoke(cli, ["verify-draw", str(tmp_path / "binary.json")]).exit_code == 2
    # Before the draw the seed is secret: nothing to verify yet.
    inspector = await login(client, "inspector")
    spot = await create(client, world)
    lobby = (await client.get(f"{API}/spot/sessions/{spot['id']}/draw-record", headers=inspector)).json()
    assert lobby["seed"] is None
    status, output = verify(tmp_path, lobby)
    assert status == 2 and "only after the draw" in output
    # A missing file is a usage error (also 2).
    assert CliRunner().invoke(cli, ["verify-draw", str(tmp_path / "missing.json")]).exit_code == 2


async def test_the_installed_command_runs_as_an_operator_would(
    client: AsyncClient, world: World, tmp_path: Path
) -> None:
    record = await published_record(client, world, draw_count=2)
    path = tmp_path / "draw-record.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    done = run_command(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "draw verified" in done.stdout
    path.write_text(json.dumps({**record, "seed": "f" * 64}), encoding="utf-8")
    done = run_command(path)
    assert done.returncode == 1 and "[FAIL] seed_commitment" in done.stdout
