"""Every table of the service; Alembic reads `SQLModel.metadata` through this package."""

from app.models.audit import AuditEvent
from app.models.courses import Course, CourseMember
from app.models.groups import GroupMembership, ProjectGroup, Topic
from app.models.invitations import CourseInvitation
from app.models.milestones import Extension, Milestone
from app.models.notify import Notice, NoticeOptOut
from app.models.people import ActivationCode, ApiToken, User
from app.models.programme import PosterBallot, PosterBoard, Programme, TalkSession, TalkSlot
from app.models.reviews import Review, ReviewAssignment
from app.models.selection import AssignmentMark, SelectionOverride, SelectionRun
from app.models.submissions import GradedPin, Submission
from app.models.throttle import LoginThrottle

__all__ = [
    "ActivationCode",
    "ApiToken",
    "AssignmentMark",
    "AuditEvent",
    "Course",
    "CourseInvitation",
    "CourseMember",
    "Extension",
    "GradedPin",
    "GroupMembership",
    "LoginThrottle",
    "Milestone",
    "Notice",
    "NoticeOptOut",
    "PosterBallot",
    "PosterBoard",
    "Programme",
    "ProjectGroup",
    "Review",
    "ReviewAssignment",
    "SelectionOverride",
    "SelectionRun",
    "Submission",
    "TalkSession",
    "TalkSlot",
    "Topic",
    "User",
]
