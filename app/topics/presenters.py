"""Turning the topics service's results into the API's response schemas, for the routes and the pages."""

from app.models import Topic
from app.topics.schemas import TopicPublic


def topic_public(topic: Topic) -> TopicPublic:
    """A topic as returned by the API."""
    return TopicPublic.model_validate(topic, from_attributes=True)
