"""Turning the groups service's results into the API's response schemas, for the routes and the pages."""

from app.groups import service
from app.groups.schemas import GroupPublic, MemberPublic


def group_public(view: service.GroupView) -> GroupPublic:
    """A group as returned by the API."""
    members = [
        MemberPublic(user_id=u.id or 0, username=u.username, name=u.name, joined_at=m.joined_at)
        for m, u in view.members
    ]
    return GroupPublic.model_validate({**view.group.model_dump(), "members": members})
