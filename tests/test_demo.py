"""`tracker demo` on a migrated database: the README's logins work and the course looks real."""

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
    assert dict(roles) == {"lecturer": 1, "ta": 2, "student": 40}
    sizes = session.exec(
        select(func.count()).select_from(GroupMembership)
        .where(GroupMembership.course_id == course.id, col(GroupMembership.left_at).is_(None))
        .group_by(GroupMembership.group_id)
    ).all()
    assert sorted(sizes) == [3, 3, 4, 4, 4, 4, 4, 4, 5, 5]
    assert session.exec(select(func.count()).select_from(ProjectGroup)).one() == 10
    states = session.exec(select(Topic.status, func.count()).group_by(Topic.status)).all()
    assert dict(states) == {"approved": 5, "proposed": 2, "rejected": 1}
    session.commit()

    logins = [("admin", "admin-pass"), ("lecturer", "lecturer-pass"), ("ta1", "ta-pass"), ("ta2", "ta-pass"),
              ("s01", "student-pass"), ("s40", "student-pass")]
    for username, password in logins:
        token = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert token.status_code == 200, username
    lecturer = client.post("/api/v1/auth/token", data={"username": "lecturer", "password": "lecturer-pass"}).json()
    headers = {"Authorization": f"Bearer {lecturer['access_token']}"}
    groups = client.get(f"/api/v1/courses/{course.id}/groups", headers=headers).json()
    assert len(groups) == 10 and sum(len(g["members"]) for g in groups) == 40
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["courses"] == [{"course_id": course.id, "role": "lecturer"}]

    again = runner.invoke(cli, ["demo", "--if-empty"])
    assert again.exit_code == 0
    assert again.output == "The demo course DL2026 is already loaded; nothing to do.\n"
    refused = runner.invoke(cli, ["demo"])
    assert refused.exit_code == 1
    assert session.exec(select(func.count()).select_from(Course)).one() == 1
