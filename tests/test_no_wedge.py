"""Hundreds of simultaneous requests against a real server all answer, on both backends.

A sync route's transaction used to stay open until the session dependency's teardown, after the
response had been serialised in another worker thread: with more requests than threads, every
thread waited for the SQLite lock or a pooled connection that only a thread-starved request
could free, and requests failed after 30 s. These tests send more requests than the 40 worker
threads at once and want every one answered 200.
"""

import asyncio
from typing import Any

import httpx
from sqlmodel import Session

from app.config import get_settings
from tests.factories import auth, make_course, make_group, make_staff, make_student, make_topic
from tests.server import running_server

CONCURRENT = 200


async def _burst(requests: list[tuple[str, str, dict[str, str], Any]], base: str) -> list[int]:
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(method: str, url: str, headers: dict[str, str], body: Any) -> int:
            response = await client.request(method, url, headers=headers, json=body)
            return response.status_code

        return list(await asyncio.gather(*(one(*r) for r in requests)))


def _env(db_url: str) -> dict[str, str]:
    return {"TRACKER_DATABASE_URL": db_url, "TRACKER_STORAGE_DIR": str(get_settings().storage_dir)}


def test_more_simultaneous_reads_than_threads_all_answer(db_url: str, session: Session) -> None:
    course = make_course(session)
    students = [make_student(session, course) for _ in range(20)]
    groups = [make_group(session, course, members=students[i : i + 4]) for i in range(0, 20, 4)]
    headers = [auth(session, s) for s in students]
    session.commit()  # the server answers from its own connections
    urls = [f"/api/v1/groups/{groups[i // 4].id}/milestones/proposal/submissions" for i in range(20)]
    with running_server(_env(db_url)) as server:
        requests = [("GET", urls[i % 20], headers[i % 20], None) for i in range(CONCURRENT)]
        statuses = asyncio.run(_burst(requests, server.base))
    assert {s: statuses.count(s) for s in set(statuses)} == {200: CONCURRENT}


def test_reads_and_writes_at_once_all_answer(db_url: str, session: Session) -> None:
    course = make_course(session)
    ta = make_staff(session, course)
    ta_headers = auth(session, ta)
    students = [make_student(session, course) for _ in range(20)]
    groups = [make_group(session, course, members=students[i : i + 4]) for i in range(0, 20, 4)]
    for group in groups:
        make_topic(session, group, status="proposed")
    headers = [auth(session, s) for s in students]
    session.commit()
    requests: list[tuple[str, str, dict[str, str], Any]] = []
    for i in range(CONCURRENT):
        if i % 5 == 0:  # a topic edit by a member: a write, under the SQLite write lock
            group = groups[(i // 5) % 5]
            requests.append(
                (
                    "PUT",
                    f"/api/v1/groups/{group.id}/topic",
                    headers[((i // 5) % 5) * 4],
                    {"title": f"Topic {i}", "area": "computer vision", "summary": "Seeing in the dark."},
                )
            )
        elif i % 5 == 1:
            requests.append(("GET", f"/api/v1/courses/{course.id}/dashboard?milestone=proposal", ta_headers, None))
        else:
            requests.append(("GET", "/api/v1/me", headers[i % 20], None))
    with running_server(_env(db_url)) as server:
        statuses = asyncio.run(_burst(requests, server.base))
    assert {s: statuses.count(s) for s in set(statuses)} == {200: CONCURRENT}
