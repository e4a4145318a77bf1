"""Demo data for `make run`: a prefecture-level city, its counties, a roster, the sample bank, an open quiz.

Names are fictional. Every demo password is DEMO_PASSWORD; `seed_demo` refuses a non-empty database.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.bank.loader import load_bank_dir
from app.bank.models import QuestionType
from app.core.config import Settings
from app.core.deps import Principal
from app.core.security import hash_password
from app.db.types import utcnow
from app.quizzes.models import MultipleScoring, ReviewPolicy
from app.quizzes.schemas import QuizIn, RuleIn, TargetIn
from app.quizzes.service import create_quiz, publish_quiz
from app.units.models import Role, Unit, UnitKind, User
from app.units.service import create_unit, create_user

DEMO_PASSWORD = "demo-pass-2021"  # noqa: S105 - published demo credential, see README
CITY = "江川市"
COUNTIES = ["临江县", "青山县", "白河区", "松林县"]
DEPARTMENTS = [
    ("PLC", "政法委", 3),
    ("COURT", "人民法院", 14),
    ("PROC", "人民检察院", 10),
    ("POLICE", "公安局", 30),
    ("JUSTICE", "司法局", 8),
]
CITY_DEPARTMENTS = [
    ("PLC", "市委政法委", 4),
    ("COURT", "市中级人民法院", 12),
    ("PROC", "市人民检察院", 10),
    ("POLICE", "市公安局", 25),
    ("JUSTICE", "市司法局", 8),
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志刚文斌海波宇浩凯晨阳婷雪琳"


def demo_officer_count() -> int:
    return sum(size for _, _, size in CITY_DEPARTMENTS) + len(COUNTIES) * sum(
        size for _, _, size in DEPARTMENTS
    )


@dataclass(frozen=True)
class DemoSummary:
    units: int
    officers: int
    questions: int
    quiz_id: int


def officer_name(n: int) -> str:
    surname = SURNAMES[(n * 7) % len(SURNAMES)]
    first = GIVEN[(n * 13) % len(GIVEN)]
    second = GIVEN[(n * 29 + 5) % len(GIVEN)] if n % 3 else ""
    return surname + first + second


async def database_is_empty(session: AsyncSession) -> bool:
    return (await session.execute(select(func.count()).select_from(User))).scalar_one() == 0


async def seed_demo(session: AsyncSession, settings: Settings) -> DemoSummary:
    if not await database_is_empty(session):
        raise RuntimeError("the database already has users; demo data goes only into an empty database")
    # One hash for every demo account: hashing hundreds of passwords would take a minute.
    demo_hash = hash_password(DEMO_PASSWORD)
    city = await create_unit(session, code="JC", name=CITY, kind=UnitKind.city, parent=None)
    departments: list[tuple[Unit, int]] = []
    for order, (code, name, size) in enumerate(CITY_DEPARTMENTS):
        unit = await create_unit(
            session, code=f"JC-{code}", name=name, kind=UnitKind.department, parent=city, sort_order=order
        )
        departments.append((unit, size))
    counties: list[Unit] = []
    for c, county_name in enumerate(COUNTIES, start=1):
        county = await create_unit(
            session,
            code=f"JC-{c:02d}",
            name=county_name,
            kind=UnitKind.county,
            parent=city,
            sort_order=10 + c,
        )
        counties.append(county)
        prefix = county_name[:-1]
        for order, (code, name, size) in enumerate(DEPARTMENTS):
            dept_name = (
                f"{county_name}委政法委"
                if code == "PLC"
                else f"{prefix}{'区' if county_name.endswith('区') else '县'}{name}"
            )
            unit = await create_unit(
                session,
                code=f"JC-{c:02d}-{code}",
                name=dept_name,
                kind=UnitKind.department,
                parent=county,
                sort_order=order,
            )
            departments.append((unit, size))
    staff = [
        ("admin", "系统管理员", Role.admin, city),
        ("inspector", "市评估验收组", Role.inspector, city),
        ("unitadmin", f"{COUNTIES[0]}政法委管理员", Role.unit_admin, counties[0]),
    ]
    for username, name, role, unit in staff:
        await create_user(
            session, username=username, name=name, role=role, unit=unit, password_hash=demo_hash
        )
    n = 0
    for unit, size in departments:
        for _ in range(size):
            n += 1
            number = f"officer{n:03d}"
            await create_user(
                session,
                username=number,
                police_number=number,
                name=officer_name(n),
                role=Role.officer,
                unit=unit,
                password_hash=demo_hash,
                phone=f"139{n:08d}",
            )
    await session.flush()
    questions = await load_bank_dir(session, settings.question_bank_dir)
    admin = (await session.execute(select(User).where(User.username == "admin"))).scalar_one()
    principal = Principal(
        id=admin.id,
        username=admin.username,
        name=admin.name,
        role=admin.role,
        unit_id=city.id,
        unit_path=city.path,
        session_id="",
        must_change_password=False,
    )
    now = utcnow()
    quiz = await create_quiz(
        session,
        principal,
        QuizIn(
            title="政法队伍教育整顿应知应会测试",
            description="学习教育环节评估验收“测”：应知应会知识小测试。每人限答两次，按首次成绩统计。",
            time_limit_seconds=30 * 60,
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=30),
            attempts_allowed=2,
            pass_percent=60,
            multiple_scoring=MultipleScoring.all_or_nothing,
            review_policy=ReviewPolicy.full,
            rules=[
                RuleIn(question_type=QuestionType.single, count=10, points=4),
                RuleIn(question_type=QuestionType.multiple, count=5, points=6),
                RuleIn(question_type=QuestionType.true_false, count=5, points=3),
                RuleIn(question_type=QuestionType.fill_blank, count=3, points=5),
            ],
            targets=[TargetIn(unit_id=city.id, include_subunits=True)],
        ),
    )
    await publish_quiz(session, quiz.id)
    return DemoSummary(
        units=1 + len(departments) + len(counties), officers=n, questions=questions, quiz_id=quiz.id
    )
