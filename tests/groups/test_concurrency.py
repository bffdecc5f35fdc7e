"""Many students joining one group at the same instant: the row lock keeps the group at its maximum."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.db import make_engine
from app.errors import Conflict
from app.groups.service import ERR_GROUP_FULL, group_join
from tests.factories import T0, make_course, make_group, make_student, member_ids


@pytest.mark.postgres_only
def test_twenty_concurrent_joins_into_a_group_of_four_leave_exactly_five(db_url: str, session: Session) -> None:
    course = make_course(session)
    group = make_group(session, course, size=4)
    joiners = [make_student(session, course) for _ in range(20)]
    session.commit()
    # One connection per thread, so all twenty really are in flight at once.
    engine: Engine = make_engine(db_url, pool_size=len(joiners), max_overflow=0)
    barrier = threading.Barrier(len(joiners), timeout=30)
    outcomes: dict[int, str] = {}

    def join(user_id: int) -> None:
        with Session(engine, expire_on_commit=False) as own:
            user = own.get(type(joiners[0]), user_id)
            assert user is not None
            barrier.wait()
            try:
                group_join(own, user=user, course_id=course.id or 0, code=group.join_code, now=T0 + timedelta(hours=1))
                own.commit()
                outcomes[user_id] = "joined"
            except Conflict as exc:
                own.rollback()
                outcomes[user_id] = exc.detail
            except Exception as exc:  # noqa: BLE001 (reported by the assertions below)
                outcomes[user_id] = repr(exc)

    threads = [threading.Thread(target=join, args=(u.id,)) for u in joiners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    engine.dispose()
    assert len(outcomes) == 20, outcomes
    assert sorted(outcomes.values()).count("joined") == 1
    assert sorted(outcomes.values()).count(ERR_GROUP_FULL) == 19
    assert len(member_ids(group, session)) == 5


@pytest.mark.postgres_only
def test_one_student_joining_two_groups_at_once_ends_in_one(db_url: str, session: Session) -> None:
    course = make_course(session)
    first, second = make_group(session, course, size=3), make_group(session, course, size=3)
    student = make_student(session, course)
    session.commit()
    engine: Engine = make_engine(db_url, pool_size=2, max_overflow=0)
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def join(code: str) -> None:
        with Session(engine, expire_on_commit=False) as own:
            user = own.get(type(student), student.id)
            assert user is not None
            barrier.wait()
            try:
                group_join(own, user=user, course_id=course.id or 0, code=code, now=T0)
                own.commit()
                outcomes.append("joined")
            except Conflict as exc:
                own.rollback()
                outcomes.append(exc.code)

    threads = [threading.Thread(target=join, args=(g.join_code,)) for g in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    engine.dispose()
    assert sorted(outcomes) == ["already_in_group", "joined"]
    assert len(member_ids(first, session)) + len(member_ids(second, session)) == 7
