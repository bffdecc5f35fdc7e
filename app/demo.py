"""The demo course DL2026 in week 16: 60 students in 16 groups, proposals and reports in, reviews (README).

Built through the same service functions the API uses, so the demo data obeys the rules
and fills the audit log like real use would.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.access import LECTURER, STUDENT, TA
from app.courses.defaults import DEFAULT_TIMEZONE
from app.courses.schemas import CourseCreate
from app.courses.service import course_create
from app.demo_work import demo_work
from app.groups.service import group_create, group_join
from app.models import Course, CourseMember, ProjectGroup, User
from app.people.service import user_create
from app.security import hash_password
from app.topics.service import topic_decide, topic_propose

DEMO_COURSE_CODE = "DL2026"
DEMO_COURSE_TITLE = "Deep Learning (demo)"
STUDENT_COUNT = 60
STAFF = [  # username, name, password, course role (None: admin only)
    ("admin", "Site Admin", "admin-pass", None),
    ("lecturer", "Dr. Mei Lin", "lecturer-pass", LECTURER),
    ("ta1", "Tom Abel", "ta-pass", TA),
    ("ta2", "Tara Ng", "ta-pass", TA),
]
STUDENT_PASSWORD = "student-pass"
# name, size, topic (title, area, summary) or None, topic state
GROUPS: list[tuple[str, int, tuple[str, str, str] | None, str | None]] = [
    (
        "Pixel Pushers",
        4,
        ("Seeing in the dark", "computer vision", "Low-light image enhancement with diffusion priors."),
        "approved",
    ),
    (
        "Attention Seekers",
        4,
        ("Sarcasm detection in tweets", "nlp", "Fine-tuning small transformers on sarcasm."),
        "approved",
    ),
    (
        "Reward Hackers",
        4,
        ("Learning to park", "reinforcement learning", "PPO for a simulated parking task."),
        "approved",
    ),
    (
        "Cold Starters",
        4,
        ("Cold-start recommendations", "recommender systems", "Meta-learning for new users."),
        "approved",
    ),
    (
        "Gradient Descenders",
        4,
        ("Leaf disease detection", "computer vision", "Plant disease classification on phone photos."),
        "approved",
    ),
    (
        "Token Tamers",
        4,
        ("Summarising lecture transcripts", "nlp", "Long-context summarisation of course videos."),
        "approved",
    ),
    ("Latent Space", 4, ("Music generation with VAEs", "other", "Symbolic music from a hierarchical VAE."), "approved"),
    (
        "Dropout Club",
        4,
        ("Bird song identification", "other", "Audio spectrogram transformers for bird calls."),
        "approved",
    ),
    (
        "Batch Normals",
        4,
        ("Traffic sign robustness", "computer vision", "Adversarial robustness of sign classifiers."),
        "approved",
    ),
    (
        "Vanishing Gradients",
        4,
        ("Question answering on course notes", "nlp", "Retrieval-augmented QA for lectures."),
        "approved",
    ),
    ("Epoch Makers", 4, ("Playing Snake", "reinforcement learning", "DQN variants on a grid game."), "approved"),
    (
        "Kernel Panic",
        4,
        ("Movie recommendations from plots", "recommender systems", "Text embeddings for cold items."),
        "approved",
    ),
    (
        "Residual Connections",
        3,
        ("Handwritten maths to LaTeX", "computer vision", "Image-to-sequence for formulas."),
        "approved",
    ),
    (
        "Softmax Society",
        3,
        ("Detecting fake reviews", "nlp", "Contrastive training against generated reviews."),
        "approved",
    ),
    ("Backprop Squad", 3, ("Everything about AI", "other", "We will apply deep learning to everything."), "rejected"),
    (
        "Overfitters",
        3,
        ("Weather from webcams", "computer vision", "Estimating the weather from street cameras."),
        "proposed",
    ),
]
REJECTION_COMMENT = "Too broad: pick one problem, one data set and one baseline to beat."


@dataclass(frozen=True)
class DemoSummary:
    """What the demo loader created."""

    course: Course
    students: int
    groups: int


def demo_course(session: Session) -> Course | None:
    """The demo course, if it was loaded."""
    return session.exec(select(Course).where(Course.code == DEMO_COURSE_CODE)).first()


def demo_start_date(now: datetime) -> date:
    """The Monday that puts "now" at least two days after the report deadline (Sunday of week 15).

    From Wednesday on that is week 16; on a Monday or Tuesday it is week 17, as the reviews
    written a day or two after the deadline must lie in the past.
    """
    today = now.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()
    return today - timedelta(days=today.weekday(), weeks=15 if today.weekday() >= 2 else 16)


def _user(
    session: Session,
    *,
    username: str,
    name: str,
    password_hash: str,
    now: datetime,
    admin: bool = False,
    student_no: str | None = None,
    email: str | None = None,
) -> User:
    existing = session.exec(select(User).where(User.username == username)).first()
    if existing is not None:
        return existing  # keep an account someone made by hand (and its password)
    user = user_create(
        session, username=username, name=name, email=email, student_no=student_no, is_admin=admin, now=now
    )
    user.password_hash = password_hash
    session.add(user)
    return user


def _course(session: Session, *, staff: dict[str, User], now: datetime) -> Course:
    """The demo course, created by the admin, with the demo's lecturer and TAs as its staff."""
    start = demo_start_date(now)
    course = course_create(
        session,
        user=staff["admin"],
        now=now - timedelta(weeks=16),
        data=CourseCreate(code=DEMO_COURSE_CODE, title=DEMO_COURSE_TITLE, start_date=start),
    )
    # course_create made the admin its lecturer; the demo's lecturer takes that place.
    creator = session.exec(
        select(CourseMember).where(CourseMember.course_id == course.id, CourseMember.user_id == staff["admin"].id)
    ).one()
    creator.user_id = staff["lecturer"].id  # type: ignore[assignment]
    session.add(creator)
    for username, _name, _pw, role in STAFF[2:]:
        session.add(CourseMember(course_id=course.id, user_id=staff[username].id, role=role))  # type: ignore[arg-type]
    return course


def _groups(
    session: Session, *, course: Course, staff: dict[str, User], students: list[User], now: datetime
) -> list[tuple[ProjectGroup, list[User]]]:
    """The demo's groups, formed by their students, with their topics proposed and decided."""
    formed = now - timedelta(weeks=13)
    remaining = iter(students)
    made: list[tuple[ProjectGroup, list[User]]] = []
    for index, (name, size, topic, state) in enumerate(GROUPS):
        members = [next(remaining) for _ in range(size)]
        view = group_create(
            session, user=members[0], course_id=course.id or 0, name=name, now=formed + timedelta(hours=index)
        )
        for offset, member in enumerate(members[1:], start=1):
            group_join(
                session,
                user=member,
                course_id=course.id or 0,
                code=view.group.join_code,
                now=formed + timedelta(hours=index, minutes=10 * offset),
            )
        made.append((view.group, members))
        if topic is None:
            continue
        title, area, summary = topic
        topic_propose(
            session,
            user=members[0],
            group_id=view.group.id or 0,
            title=title,
            area=area,
            summary=summary,
            now=formed + timedelta(weeks=2, hours=index),
        )
        if state in ("approved", "rejected"):
            decider = staff["lecturer"] if index % 2 == 0 else staff[f"ta{index % 4 // 2 + 1}"]
            topic_decide(
                session,
                user=decider,
                group_id=view.group.id or 0,
                decision="approve" if state == "approved" else "reject",
                comment="" if state == "approved" else REJECTION_COMMENT,
                now=formed + timedelta(weeks=3, hours=index),
            )
    return made


def demo_load(session: Session, *, now: datetime) -> DemoSummary:
    """Create the demo course with its staff, students, groups and topics (the caller commits)."""
    # Hashing each distinct password once keeps loading fast (argon2 costs ~0.1 s a hash).
    hashes = {pw: hash_password(pw) for pw in {s[2] for s in STAFF} | {STUDENT_PASSWORD}}
    staff = {
        username: _user(
            session,
            username=username,
            name=name,
            password_hash=hashes[pw],
            now=now,
            admin=role is None,
            email=f"{username}@staff.example.edu",
        )
        for username, name, pw, role in STAFF
    }
    course = _course(session, staff=staff, now=now)
    students = [
        _user(
            session,
            username=f"s{n:02d}",
            name=f"Student {n:02d}",
            password_hash=hashes[STUDENT_PASSWORD],
            now=now,
            student_no=f"S{n:02d}",
            email=f"s{n:02d}@students.example.edu",
        )
        for n in range(1, STUDENT_COUNT + 1)
    ]
    session.add_all([CourseMember(course_id=course.id, user_id=s.id, role=STUDENT) for s in students])  # type: ignore[arg-type]
    session.flush()
    made = _groups(session, course=course, staff=staff, students=students, now=now)
    session.flush()
    demo_work(session, course=course, staff=staff, groups=made)
    return DemoSummary(course=course, students=len(students), groups=len(GROUPS))
