"""Import jobs: preview (parse and check, write nothing to the bank or roster), then an atomic
commit. A job keeps what its preview showed and what its commit did."""

import bisect
import hashlib
import importlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from app.bank.models import Bank, KnowledgeArea, Question
from app.bank.service import (
    fingerprint,
    get_or_create_area,
    get_or_create_bank,
    question_row,
    split_area_path,
)
from app.core.deps import Principal
from app.core.errors import Conflict, NotFound, Unprocessable
from app.db.types import utcnow
from app.imports.common import DEFAULT_AREA, WARNING_CODES, Issue, ParsedQuestion, ParseResult, answer_text
from app.imports.files import detect_format, read_table
from app.imports.models import ImportJob, ImportKind, ImportStatus
from app.imports.schemas import ImportJobOut, ImportJobPage, ItemPage, PersonRef
from app.units.models import Role, Unit, User
from app.units.service import in_subtree

# Each parser is a pure function of the bytes, imported when its format first arrives.
PARSERS = {
    "xlsx": ("app.imports.parsers.tabular", "parse_xlsx"),
    "csv": ("app.imports.parsers.tabular", "parse_csv"),
    "docx": ("app.imports.parsers.docx", "parse_docx"),
    "text": ("app.imports.parsers.text", "parse_text"),
    "json": ("app.imports.parsers.native_json", "parse_json"),
    "gift": ("app.imports.parsers.gift", "parse_gift"),
    "aiken": ("app.imports.parsers.aiken", "parse_aiken"),
    "yaml": ("app.imports.yaml_bank", "parse_yaml"),
}


def parse_questions(fmt: str, data: bytes) -> ParseResult:
    module, name = PARSERS[fmt]
    parser: Callable[[bytes], ParseResult] = getattr(importlib.import_module(module), name)
    return parser(data)


def split_issues(issues: list[Issue]) -> dict[str, list[dict[str, Any]]]:
    """A preview's errors (which block a plain commit) and warnings (which do not)."""
    return {
        "errors": [i.as_dict() for i in issues if i.code not in WARNING_CODES],
        "warnings": [i.as_dict() for i in issues if i.code in WARNING_CODES],
    }


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _position(item: dict[str, Any]) -> int:
    return int(item.get("line") or item.get("row") or 0)


# Bank preview ---------------------------------------------------------------------------------


def _question_item(question: ParsedQuestion, status: str, issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "line": question.line,
        "row": question.row,
        "status": status,
        "type": question.type,
        "stem": question.stem,
        "options": question.options,
        "answer": answer_text(question),
        "area": question.area,
        "difficulty": question.difficulty,
        "points": question.points,
        "issues": issues,
    }


async def _existing_fingerprints(session: AsyncSession, bank_id: int | None) -> dict[str, int]:
    if bank_id is None:
        return {}
    rows = await session.execute(
        select(Question.fingerprint, Question.id).where(Question.bank_id == bank_id).order_by(Question.id)
    )
    found: dict[str, int] = {}
    for mark, question_id in rows:
        found.setdefault(mark, question_id)
    return found


async def _missing_areas(session: AsyncSession, full_names: set[str]) -> list[str]:
    """Areas (with any missing ancestors) that a commit would create, parents first."""
    wanted: set[str] = set()
    for full_name in full_names:
        parts = split_area_path(full_name)
        wanted.update("/".join(parts[: depth + 1]) for depth in range(len(parts)))
    if not wanted:
        return []
    existing = set(
        (
            await session.execute(select(KnowledgeArea.full_name).where(KnowledgeArea.full_name.in_(wanted)))
        ).scalars()
    )
    return sorted(wanted - existing, key=lambda name: (name.count("/"), name))


def attach_issues(
    parsed: ParseResult, errors: list[Issue]
) -> tuple[dict[tuple[int | None, int | None], list[dict[str, Any]]], int]:
    """Each problem under the rejected question it belongs to — the question starting at or
    before its line (a problem may point at the bad answer line) or on its row — and how many
    belong to no question (a stray line). Stray problems count as errors too."""
    starts = sorted(
        [(q.line, False) for q in parsed.questions if q.line is not None]
        + [(r.line, True) for r in parsed.rejected if r.line is not None]
    )
    lines = [line for line, _ in starts]
    rejected_rows = {r.row for r in parsed.rejected if r.row is not None}
    attached: dict[tuple[int | None, int | None], list[dict[str, Any]]] = {}
    stray = 0
    for problem in errors:
        key: tuple[int | None, int | None] | None = None
        if problem.row is not None:
            key = (None, problem.row) if problem.row in rejected_rows else None
        elif problem.line is not None:
            at = bisect.bisect_right(lines, problem.line) - 1
            if at >= 0 and starts[at][1]:
                key = (starts[at][0], None)
        if key is None:
            stray += 1
        else:
            attached.setdefault(key, []).append(problem.as_dict())
    return attached, stray


def plan_bank(
    parsed: ParseResult, in_bank: dict[str, int], default_area: str
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Counts, duplicates and preview items (with what to write) for a parsed file: pure."""
    errors = [i for i in parsed.issues if i.code not in WARNING_CODES]
    issues_at, stray = attach_issues(parsed, errors)
    items: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    first_seen: dict[str, ParsedQuestion] = {}
    for question in parsed.questions:
        mark = fingerprint(question.stem, question.options)
        item = _question_item(question, "valid", [])
        if mark in first_seen:
            first = first_seen[mark]
            item["status"] = "duplicate"
            duplicates.append(
                {
                    "line": question.line,
                    "row": question.row,
                    "stem": question.stem[:200],
                    "kind": "in_file",
                    "first_line": first.line,
                    "first_row": first.row,
                    "question_id": None,
                }
            )
        elif mark in in_bank:
            item["status"] = "duplicate"
            duplicates.append(
                {
                    "line": question.line,
                    "row": question.row,
                    "stem": question.stem[:200],
                    "kind": "in_bank",
                    "first_line": None,
                    "first_row": None,
                    "question_id": in_bank[mark],
                }
            )
        else:
            first_seen[mark] = question
            item["question"] = {**question.content(), "area": question.area or default_area}
        items.append(item)
    for rejected in parsed.rejected:
        items.append(
            {
                "line": rejected.line,
                "row": rejected.row,
                "status": "error",
                "type": rejected.type,
                "stem": rejected.stem,
                "options": [],
                "answer": "",
                "area": "",
                "difficulty": None,
                "points": None,
                "issues": issues_at.get(
                    (rejected.line, None) if rejected.row is None else (None, rejected.row), []
                ),
            }
        )
    items.sort(key=_position)
    to_import = sum(1 for item in items if item["status"] == "valid")
    counts = {
        "total": parsed.total,
        "valid": len(parsed.questions),
        "errors": len(parsed.rejected),
        # Problems that belong to no question (a stray line): they block a plain commit too.
        "other_problems": stray,
        "duplicates_in_file": sum(1 for d in duplicates if d["kind"] == "in_file"),
        "duplicates_in_bank": sum(1 for d in duplicates if d["kind"] == "in_bank"),
        "to_import": to_import,
    }
    return counts, duplicates, items


async def _bank_target(
    session: AsyncSession, bank_id: int | None, bank_name: str | None, parsed: ParseResult | None
) -> tuple[int | None, str]:
    if bank_id is not None:
        bank = await session.get(Bank, bank_id)
        if bank is None:
            raise NotFound(f"Bank {bank_id} does not exist", code="bank_not_found")
        return bank.id, bank.name
    name = (bank_name or "").strip() or (parsed.bank_name if parsed else None) or ""
    if not name:
        raise Unprocessable("Name the bank to import into (bank_name or bank_id)", code="bank_required")
    if len(name) > 200:
        raise Unprocessable("The bank name is at most 200 characters", code="bank_name_too_long")
    existing = (await session.execute(select(Bank.id).where(Bank.name == name))).scalar_one_or_none()
    return existing, name


async def preview_bank(
    session: AsyncSession,
    principal: Principal,
    *,
    file_name: str,
    data: bytes,
    bank_id: int | None = None,
    bank_name: str | None = None,
    default_area: str | None = None,
) -> ImportJob:
    fmt = detect_format(file_name, data)
    parsed = parse_questions(fmt, data)
    target_id, target_name = await _bank_target(session, bank_id, bank_name, parsed)
    area_name = "/".join(split_area_path(default_area or "")) or DEFAULT_AREA
    counts, duplicates, items = plan_bank(parsed, await _existing_fingerprints(session, target_id), area_name)
    areas = {item["question"]["area"] for item in items if "question" in item}
    job = ImportJob(
        kind=ImportKind.bank,
        file_name=file_name[:255],
        file_sha256=file_digest(data),
        file_size=len(data),
        format=fmt,
        encoding=parsed.encoding,
        bank_name=target_name,
        bank_id=target_id,
        default_area=area_name,
        unit_id=principal.unit_id,
        created_by_id=principal.id,
        preview={
            "counts": counts,
            **split_issues(parsed.issues),
            "duplicates": duplicates,
            "new_knowledge_areas": await _missing_areas(session, areas),
        },
        payload={"items": items},
    )
    session.add(job)
    await session.commit()
    return job


async def commit_bank(session: AsyncSession, job: ImportJob) -> dict[str, Any]:
    """Write the job's valid questions; the caller commits (one transaction for everything).
    Duplicates are checked again against the bank as it is now, so re-importing adds nothing."""
    bank = await session.get(Bank, job.bank_id) if job.bank_id else None
    if bank is None:
        bank = await get_or_create_bank(session, job.bank_name or "")
    job.bank_id = bank.id
    in_bank = await _existing_fingerprints(session, bank.id)
    areas_before = (await session.execute(select(func.count(KnowledgeArea.id)))).scalar_one()
    area_ids: dict[str, int] = {}
    skipped = 0
    rows: list[dict[str, Any]] = []
    for item in job.payload.get("items", []):
        content = item.get("question")
        if item["status"] != "valid" or content is None:
            continue
        mark = fingerprint(content["stem"], content["options"])
        if mark in in_bank:
            skipped += 1
            continue
        if content["area"] not in area_ids:
            area_ids[content["area"]] = (await get_or_create_area(session, content["area"])).id
        rows.append(
            question_row(
                bank_id=bank.id,
                area_id=area_ids[content["area"]],
                qtype=content["type"],
                stem=content["stem"],
                option_texts=content["options"],
                answer=content["answer"],
                explanation=content["explanation"],
                difficulty=content["difficulty"],
                points=content["points"],
                tags=content["tags"],
            )
        )
        in_bank[mark] = 0
    # One executemany INSERT: ten thousand ORM objects would cost seconds more.
    if rows:
        await session.execute(insert(Question), rows)
    created = len(rows)
    areas_after = (await session.execute(select(func.count(KnowledgeArea.id)))).scalar_one()
    return {"created": created, "skipped_duplicates": skipped, "areas_created": areas_after - areas_before}


# Roster preview -------------------------------------------------------------------------------

ROSTER_SHEETS = ("花名册", "roster")


async def preview_roster(
    session: AsyncSession,
    principal: Principal,
    *,
    file_name: str,
    data: bytes,
    deactivate_missing: bool = False,
) -> ImportJob:
    from app.imports.roster import parse_roster, roster_rows_to_payload
    from app.imports.roster_service import plan_roster

    fmt = detect_format(file_name, data)
    if fmt not in ("xlsx", "csv"):
        raise Unprocessable(
            "A roster is an Excel (.xlsx) or CSV file made from the roster template", code="roster_format"
        )
    table = read_table(data, fmt, ROSTER_SHEETS)
    rows, parse_issues = parse_roster(table)
    plan = await plan_roster(session, principal, rows, deactivate_missing=deactivate_missing)
    issues = [*parse_issues, *plan.issues, *plan.warnings]
    job = ImportJob(
        kind=ImportKind.roster,
        file_name=file_name[:255],
        file_sha256=file_digest(data),
        file_size=len(data),
        format=fmt,
        encoding=table.encoding,
        deactivate_missing=deactivate_missing,
        unit_id=principal.unit_id,
        created_by_id=principal.id,
        preview={
            "counts": plan.counts,
            **split_issues(issues),
            "new_units": plan.new_units,
        },
        payload={"rows": roster_rows_to_payload(rows), "items": plan.items},
    )
    session.add(job)
    await session.commit()
    return job


async def commit_roster(session: AsyncSession, principal: Principal, job: ImportJob) -> dict[str, Any]:
    from app.imports.roster import roster_rows_from_payload
    from app.imports.roster_service import apply_roster

    rows = roster_rows_from_payload(job.payload.get("rows", []))
    # Rows with errors are skipped, not removed: their people still count as "in the file" (so
    # deactivate_missing spares them) and units they name are still known.
    skip = (
        [
            item["row"]
            for item in job.payload.get("items", [])
            if item.get("status") == "error" and item.get("row")
        ]
        if job.valid_only
        else []
    )
    try:
        result: dict[str, Any] = await apply_roster(
            session, principal, rows, deactivate_missing=job.deactivate_missing, skip_rows=skip
        )
    except IntegrityError as exc:
        # Another import or an admin created the same person or unit since the preview.
        await session.rollback()
        raise Conflict(
            "The roster changed since this preview: upload the file again", code="import_stale"
        ) from exc
    return result


# Jobs -----------------------------------------------------------------------------------------


def _job_scope(principal: Principal) -> ColumnElement[bool] | None:
    """Administrators see every job; a unit admin sees roster jobs made within their subtree."""
    if principal.role == Role.admin:
        return None
    return (ImportJob.kind == ImportKind.roster) & ImportJob.unit_id.in_(
        select(Unit.id).where(in_subtree(Unit.path, principal.unit_path))
    )


async def get_job(session: AsyncSession, principal: Principal, job_id: int) -> ImportJob:
    stmt = select(ImportJob).where(ImportJob.id == job_id)
    scope = _job_scope(principal)
    if scope is not None:
        stmt = stmt.where(scope)
    job = (await session.execute(stmt)).scalar_one_or_none()
    if job is None:
        raise NotFound(f"Import {job_id} does not exist", code="import_not_found")
    return job


async def _people(session: AsyncSession, ids: set[int | None]) -> dict[int, PersonRef]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {user_id: PersonRef(id=user_id, name=name) for user_id, name in rows}


def _job_out(
    job: ImportJob, people: dict[int, PersonRef], *, result: dict[str, Any] | None = None
) -> ImportJobOut:
    preview = job.preview or {}
    stored = result if result is not None else job.result
    return ImportJobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        file_name=job.file_name,
        file_sha256=job.file_sha256,
        file_size=job.file_size,
        format=job.format,
        encoding=job.encoding,
        bank_id=job.bank_id,
        bank_name=job.bank_name,
        default_area=job.default_area,
        deactivate_missing=job.deactivate_missing,
        created_by=people.get(job.created_by_id) if job.created_by_id else None,
        created_at=job.created_at,
        committed_by=people.get(job.committed_by_id) if job.committed_by_id else None,
        committed_at=job.committed_at,
        valid_only=job.valid_only,
        counts=preview.get("counts", {}),
        errors=preview.get("errors", []),
        warnings=preview.get("warnings", []),
        duplicates=preview.get("duplicates", []),
        new_knowledge_areas=preview.get("new_knowledge_areas", []),
        new_units=preview.get("new_units", []),
        result=stored,
    )


async def job_out(
    session: AsyncSession, job: ImportJob, *, result: dict[str, Any] | None = None
) -> ImportJobOut:
    people = await _people(session, {job.created_by_id, job.committed_by_id})
    return _job_out(job, people, result=result)


async def list_jobs(
    session: AsyncSession, principal: Principal, *, kind: str | None, limit: int, offset: int
) -> ImportJobPage:
    conditions: list[ColumnElement[bool]] = []
    scope = _job_scope(principal)
    if scope is not None:
        conditions.append(scope)
    if kind is not None:
        conditions.append(ImportJob.kind == kind)
    total = (await session.execute(select(func.count(ImportJob.id)).where(*conditions))).scalar_one()
    # Only the columns a list needs: the payload of a 10,000-question job stays in the database.
    jobs = (
        await session.execute(
            select(ImportJob)
            .where(*conditions)
            .order_by(ImportJob.id.desc())
            .limit(limit)
            .offset(offset)
            .options(defer(ImportJob.payload))
        )
    ).scalars()
    listed = list(jobs)
    people = await _people(session, {j.created_by_id for j in listed} | {j.committed_by_id for j in listed})
    items = []
    for job in listed:
        out = _job_out(job, people)
        # A list shows counts; the full errors are one click away.
        items.append(out.model_copy(update={"errors": [], "duplicates": [], "warnings": []}))
    return ImportJobPage(items=items, total=total)


ITEM_FILTERS = ("all", "valid", "error", "duplicate", "create", "update", "deactivate", "unchanged")


def job_items(job: ImportJob, *, status: str, limit: int, offset: int) -> ItemPage:
    items = job.payload.get("items", [])
    if status != "all":
        items = [item for item in items if item.get("status") == status]
    page = [{k: v for k, v in item.items() if k != "question"} for item in items[offset : offset + limit]]
    return ItemPage(items=page, total=len(items))


async def _claim(session: AsyncSession, job: ImportJob, status: ImportStatus, principal: Principal) -> None:
    """Move a previewed job on, once: a second commit (or a commit racing a discard) gets 409."""
    claimed = await session.execute(
        update(ImportJob)
        .where(ImportJob.id == job.id, ImportJob.status == ImportStatus.previewed)
        .values(status=status, committed_by_id=principal.id, committed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Import {job.id} was already {job.status}", code="import_not_pending")


async def commit_job(
    session: AsyncSession, principal: Principal, job_id: int, *, valid_only: bool
) -> ImportJobOut:
    job = await get_job(session, principal, job_id)
    if job.status != ImportStatus.previewed:
        raise Conflict(f"Import {job.id} was already {job.status}", code="import_not_pending")
    if (job.preview.get("errors") or job.preview.get("counts", {}).get("errors")) and not valid_only:
        raise Conflict(
            "The file has errors: fix them and upload it again, or choose to import only the valid rows",
            code="import_has_errors",
        )
    await _claim(session, job, ImportStatus.committed, principal)
    job.valid_only = valid_only
    if job.kind == ImportKind.bank:
        result = await commit_bank(session, job)
    else:
        result = await commit_roster(session, principal, job)
    # Initial passwords are shown once, in this response, and never stored.
    stored = {k: v for k, v in result.items() if k != "initial_passwords"}
    job.result = stored
    await session.commit()
    await session.refresh(job)
    return await job_out(session, job, result=result)


async def discard_job(session: AsyncSession, principal: Principal, job_id: int) -> ImportJobOut:
    job = await get_job(session, principal, job_id)
    if job.status != ImportStatus.previewed:
        raise Conflict(f"Import {job.id} was already {job.status}", code="import_not_pending")
    await _claim(session, job, ImportStatus.discarded, principal)
    # What was only needed to commit goes; the preview (counts and errors) stays on record.
    job.payload = {}
    await session.commit()
    await session.refresh(job)
    return await job_out(session, job)
