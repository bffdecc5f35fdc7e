"""`tracker demo` on a migrated database: the README's logins work and the course looks real."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select
from typer.testing import CliRunner

from app.cli import cli
from app.models import Course, CourseMember, GroupMembership, ProjectGroup, Topic


def test_demo_loads_forty_students_in_ten_groups_and_the_logins_work(client: TestClient, session: Session) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    course = session.exec(select(Course).where(Course.code == "DL2026")).one()
    assert course.start_date.weekday() == 0
    roles = session.exec(
        select(CourseMember.role, func.count()).where(CourseMember.course_id == course.id).group_by(CourseMember.role)
    ).all()
    assert dict(roles) == {"lecturer": 1, "ta": 2, "student": 60}
    sizes = session.exec(
        select(func.count())
        .select_from(GroupMembership)
        .where(GroupMembership.course_id == course.id, col(GroupMembership.left_at).is_(None))
        .group_by(GroupMembership.group_id)
    ).all()
    assert sorted(sizes) == [3] * 4 + [4] * 12
    assert session.exec(select(func.count()).select_from(ProjectGroup)).one() == 16
    states = session.exec(select(Topic.status, func.count()).group_by(Topic.status)).all()
    assert dict(states) == {"approved": 14, "proposed": 1, "rejected": 1}
    session.commit()

    logins = [
        ("admin", "admin-pass"),
        ("lecturer", "lecturer-pass"),
        ("ta1", "ta-pass"),
        ("ta2", "ta-pass"),
        ("s01", "student-pass"),
        ("s40", "student-pass"),
    ]
    for username, password in logins:
        token = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert token.status_code == 200, username
    lecturer = client.post("/api/v1/auth/token", data={"username": "lecturer", "password": "lecturer-pass"}).json()
    headers = {"Authorization": f"Bearer {lecturer['access_token']}"}
    groups = client.get(f"/api/v1/courses/{course.id}/groups", headers=headers).json()
    assert len(groups) == 16
    assert sum(len(g["members"]) for g in groups) == 60
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["courses"] == [{"course_id": course.id, "role": "lecturer"}]

    again = runner.invoke(cli, ["demo", "--if-empty"])
    assert again.exit_code == 0
    assert again.output == "The demo course DL2026 is already loaded; nothing to do.\n"
    refused = runner.invoke(cli, ["demo"])
    assert refused.exit_code == 1
    assert session.exec(select(func.count()).select_from(Course)).one() == 1


def test_the_demo_tells_the_story_of_the_term(client: TestClient, session: Session) -> None:
    assert CliRunner().invoke(cli, ["demo"]).exit_code == 0
    course = session.exec(select(Course).where(Course.code == "DL2026")).one()
    session.commit()
    token = client.post("/api/v1/auth/token", data={"username": "lecturer", "password": "lecturer-pass"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    def rows(key: str) -> dict[str, dict[str, Any]]:
        body = client.get(f"/api/v1/courses/{course.id}/dashboard?milestone={key}", headers=headers).json()
        return {r["group_name"]: r for r in body["rows"]}

    proposal = rows("proposal")
    multipliers = sorted((r["multiplier"] for r in proposal.values() if r["multiplier"] is not None), reverse=True)
    assert multipliers == [1.0] * 11 + [0.9, 0.7, 0.5]  # one late by each tier; the extended group is on time
    assert proposal["Residual Connections"]["extended"] is True
    assert proposal["Residual Connections"]["multiplier"] == 1.0
    fixed = proposal["Softmax Society"]
    assert (fixed["version"], fixed["verdict"]) == (2, "accept")
    versions = client.get(f"/api/v1/groups/{fixed['group_id']}/milestones/proposal/submissions", headers=headers).json()
    assert [(v["version"], v["verdict"], [e["code"] for e in v["format_report"]["errors"]]) for v in versions] == [
        (1, "reject", ["body-pages"]),
        (2, "accept", []),
    ]
    assert proposal["Overfitters"]["status"] == "missing"
    assert proposal["Backprop Squad"]["status"] == "missing"

    report = rows("report")
    submitted = [r for r in report.values() if r["status"] != "missing"]
    assert len(submitted) == 14
    assert course.presentation_slots == 10  # more groups than presenting places
    assert sorted(r["reviews"] for r in submitted) == [0] + [2] * 13
    assert report["Dropout Club"]["reviews"] == 0
