"""The API against its own OpenAPI document: schemathesis fuzzes every operation as every role of the demo course.

Each operation gets positive and negative examples (a fixed seed: `derandomize`), and every
answer must pass not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance and negative_data_rejection.
"""

import os
import sys
from collections.abc import Callable
from datetime import timedelta

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session, select

from app.demo import demo_load
from app.models import User
from app.tokens import token_issue
from tests.conftest import FakeClock

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
ROLES = {"anonymous": None, "student": "s01", "ta": "ta1", "lecturer": "lecturer", "admin": "admin"}
# Per operation and generation mode; CI's budget allows a few minutes for all roles on both backends.
EXAMPLES = int(os.environ.get("TRACKER_CONTRACT_EXAMPLES", "4"))


def _headers(session: Session, username: str | None, clock: FakeClock) -> dict[str, str]:
    if username is None:
        return {}
    user = session.exec(select(User).where(User.username == username)).one()
    secret, _ = token_issue(session, user=user, now=clock(), kind="api", ttl=timedelta(days=3650))
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_keeps_the_contract(
    client: TestClient, session: Session, clock: FakeClock, role: str, record_property: Callable[[str, object], None]
) -> None:
    from app.main import app

    demo_load(session, now=clock())
    session.commit()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        headers = _headers(session, ROLES[role], clock)  # fresh: an earlier logout may have revoked the last
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

        @settings(
            max_examples=EXAMPLES * 2,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=strategy)
        def check(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            case.call_and_validate(headers={**headers, **(case.headers or {})}, checks=CHECKS)  # noqa: B023

        try:
            check()
        except Exception as exc:  # noqa: BLE001 (every operation is tried; all failures are reported together)
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}"[:3000])
    record_property("operations", operations)
    record_property("cases", cases)
    sys.stdout.write(f"\ncontract[{role}]: {operations} operations, {cases} cases, {len(failures)} failing\n")
    assert failures == []


def _could_both_answer(a: str, b: str) -> bool:
    """Whether some request path matches both route paths (segment by segment; `{x}` takes any one)."""
    first, second = a.strip("/").split("/"), b.strip("/").split("/")
    if any(s.endswith(":path}") for s in first + second):
        return False  # a catch-all answers whatever nothing else does: it is included last
    return len(first) == len(second) and all(
        x == y or x.startswith("{") or y.startswith("{") for x, y in zip(first, second, strict=True)
    )


def test_no_api_path_is_answered_by_two_routes() -> None:
    from fastapi.routing import APIRoute

    from app.main import create_app

    routes: list[tuple[str, set[str]]] = []
    for route in create_app().routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts else [route]:
            original = getattr(context, "original_route", context)
            if isinstance(original, APIRoute) and context.path_format.startswith("/api/"):
                routes.append((context.path_format, set(original.methods)))
    assert len(routes) > 70  # every API route, reached through the included routers
    # The routers are included with the most frequent requests' first; that is only safe while no
    # path could be answered by a route of another router that happens to come first.
    assert [
        (a, b)
        for i, (a, methods_a) in enumerate(routes)
        for b, methods_b in routes[i + 1 :]
        if methods_a & methods_b and _could_both_answer(a, b)
    ] == []
