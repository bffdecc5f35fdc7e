#!/usr/bin/env python3
"""The steps of scripts/two_hosts.sh: set up, upload through one server and download through the other, crash.

    two_hosts.py setup STATE                  migrate, make the bucket and a course; tokens to STATE
    two_hosts.py wait URL...                  until each server answers /readyz
    two_hosts.py wait-s3 URL                  until the S3 server answers
    two_hosts.py roundtrip STATE URL_A URL_B  upload through A, download through B, compare the bytes
    two_hosts.py crash STATE URL_A URL_B PID  20 uploads through A, SIGKILL PID mid-way, then check everything

The database, the store and the credentials come from the environment (TRACKER_*, AWS_*).
"""

import asyncio
import hashlib
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

UPLOADS = 20
KILL_AFTER = 8  # answers received before the kill


def setup(state: Path) -> None:
    """Migrate the database, create the bucket and a course with two groups; tokens and PDFs to STATE."""
    import boto3
    from bench_rush import make_pdfs, setup_course

    from app.storage import parse_storage_url

    _, bucket, _ = parse_storage_url(os.environ["TRACKER_STORAGE_URL"])
    boto3.client("s3", endpoint_url=os.environ["TRACKER_S3_ENDPOINT_URL"]).create_bucket(Bucket=bucket)
    group_ids, tokens = setup_course(os.environ["TRACKER_DATABASE_URL"], 2)
    pdfs = make_pdfs(4, 0.5, 1.5, seed=15)
    folder = state.parent
    for n, pdf in enumerate(pdfs):
        (folder / f"upload-{n}.pdf").write_bytes(pdf)
    state.write_text(json.dumps({"groups": group_ids, "tokens": tokens, "pdfs": len(pdfs)}))
    print(
        f"setup: course with groups {group_ids}, bucket {bucket}, {len(pdfs)} PDFs "
        f"of {', '.join(f'{len(p) / 2**20:.2f}' for p in pdfs)} MB"
    )


def wait(urls: list[str], path: str = "/readyz") -> None:
    """Poll each server (its /readyz, or its root) until it answers 200."""
    deadline = time.monotonic() + 90
    for url in urls:
        while True:
            try:
                if httpx.get(f"{url}{path}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"error: {url} did not become ready")
            time.sleep(0.3)
    print(f"ready: {', '.join(urls)}")


def _upload(
    client: httpx.Client, base: str, state: dict[str, Any], group: int, body: bytes, name: str
) -> httpx.Response:
    return client.post(
        f"{base}/api/v1/groups/{state['groups'][group]}/milestones/report/submissions",
        headers={"Authorization": f"Bearer {state['tokens'][group][0]}"},
        files={"file": (name, body, "application/pdf")},
        timeout=120,
    )


def _download(client: httpx.Client, base: str, state: dict[str, Any], group: int, sub_id: int) -> httpx.Response:
    return client.get(
        f"{base}/api/v1/submissions/{sub_id}/file",
        follow_redirects=True,
        headers={"Authorization": f"Bearer {state['tokens'][group][1]}"},
        timeout=60,
    )


def roundtrip(state_path: Path, url_a: str, url_b: str) -> None:
    """Upload through A, download through B (a redirect to the store), the bytes must be identical."""
    state = json.loads(state_path.read_text())
    body = (state_path.parent / "upload-0.pdf").read_bytes()
    with httpx.Client() as client:
        uploaded = _upload(client, url_a, state, 0, body, "Round trip.pdf")
        uploaded.raise_for_status()
        sub = uploaded.json()
        first = client.get(
            f"{url_b}/api/v1/submissions/{sub['id']}/file", headers={"Authorization": f"Bearer {state['tokens'][0][1]}"}
        )
        downloaded = _download(client, url_b, state, 0, sub["id"])
    same = downloaded.content == body and hashlib.sha256(downloaded.content).hexdigest() == sub["sha256"]
    print(
        f"roundtrip: uploaded through A as version {sub['version']} ({len(body)} bytes, "
        f"sha256 {sub['sha256'][:12]}…); "
        f"B answered {first.status_code} to the store, which sent {len(downloaded.content)} bytes with "
        f"{downloaded.headers.get('content-disposition')!r}: {'IDENTICAL' if same else 'DIFFERENT'}"
    )
    if not same:
        raise SystemExit(1)


async def _rush(url_a: str, state: dict[str, Any], bodies: list[bytes], pid: int) -> list[Any]:
    """Send the uploads to A a little apart; after KILL_AFTER answers, SIGKILL A."""
    answers: list[Any] = [None] * len(bodies)
    done = 0
    async with httpx.AsyncClient(timeout=120) as client:

        async def one(n: int) -> None:
            nonlocal done
            await asyncio.sleep(n * 0.15)
            group = n % 2
            try:
                response = await client.post(
                    f"{url_a}/api/v1/groups/{state['groups'][group]}/milestones/report/submissions",
                    headers={"Authorization": f"Bearer {state['tokens'][group][0]}"},
                    files={"file": (f"crash-{n}.pdf", bodies[n], "application/pdf")},
                )
                answers[n] = response.status_code
            except httpx.HTTPError as exc:
                answers[n] = type(exc).__name__
            done += 1
            if done == KILL_AFTER:
                os.kill(pid, signal.SIGKILL)
                print(
                    f"crash: killed A (pid {pid}) after {done} answers; "
                    f"{sum(1 for a in answers if a is None)} uploads still to come or in flight"
                )

        await asyncio.gather(*(one(n) for n in range(len(bodies))))
    return answers


def crash(state_path: Path, url_a: str, url_b: str, pid: int) -> None:
    """20 uploads through A, A killed mid-way; then nothing lost, nothing half-written, B still serves."""
    from sqlmodel import Session, select

    from app.db import get_engine
    from app.models import Submission
    from app.storage import get_store
    from app.storage.gc import storage_gc

    state = json.loads(state_path.read_text())
    base = [(state_path.parent / f"upload-{n % state['pdfs']}.pdf").read_bytes() for n in range(UPLOADS)]
    bodies = [b + f"\n%crash upload {n}\n".encode() for n, b in enumerate(base)]
    answers = asyncio.run(_rush(url_a, state, bodies, pid))
    ok = [n for n, a in enumerate(answers) if a == 201]
    failed = [n for n, a in enumerate(answers) if a != 201]
    digests = {hashlib.sha256(b).hexdigest(): n for n, b in enumerate(bodies)}
    with Session(get_engine()) as session:
        rows = session.exec(
            select(Submission.id, Submission.group_id, Submission.version, Submission.sha256).where(
                Submission.filename.startswith("crash-")
            )
        ).all()  # type: ignore[union-attr]
    stored_rows = {digests[sha]: (sub_id, group_id) for sub_id, group_id, _, sha in rows}
    lost = [n for n in ok if n not in stored_rows]
    store = get_store()
    listed = list(store.stored_objects())
    objects = {o.name for o in listed if not o.staged}
    staged = [o.name for o in listed if o.staged]
    missing_objects = [sha for *_, sha in rows if sha not in objects]
    # Read every stored version back through B and hash it: a half-written object would not match.
    mismatched = []
    with httpx.Client() as client:
        for n, (sub_id, group_id) in sorted(stored_rows.items()):
            group = state["groups"].index(group_id)
            content = _download(client, url_b, state, group, sub_id).content
            if content != bodies[n]:
                mismatched.append(n)
        after = _upload(client, url_b, state, 0, bodies[0] + b"\n%after the crash\n", "after.pdf")
    with Session(get_engine()) as session:
        versions: dict[int, list[int]] = {}
        for group_id, version in session.exec(select(Submission.group_id, Submission.version)).all():
            versions.setdefault(group_id, []).append(version)
        contiguous = all(sorted(v) == list(range(1, len(v) + 1)) for v in versions.values())
        referenced = set(session.exec(select(Submission.sha256)).all())
        orphans = sorted(objects - referenced)
        later = storage_gc(session, store=store, now=datetime.now(UTC) + timedelta(hours=2), dry_run=True)
    print(f"crash: answers {answers}")
    print(
        f"crash: {len(ok)} uploads answered 201, {len(failed)} cut off by the kill; rows for "
        f"{len(stored_rows)} of the 20 ({len(stored_rows) - len(ok)} committed before the kill but unanswered)"
    )
    print(
        f"crash: lost (201 without a row): {len(lost)}; rows without their object: {len(missing_objects)}; "
        f"stored bytes that differ from the upload: {len(mismatched)}; versions contiguous: {contiguous}"
    )
    print(
        f"crash: debris for gc: {len(orphans)} unreferenced objects, {len(staged)} staged leftovers "
        f"(A's local temporary files); gc an hour later would remove {len(later)}, none referenced: "
        f"{not (set(later) & referenced)}"
    )
    print(
        f"crash: B still serves: upload after the crash answered {after.status_code}, version "
        f"{after.json().get('version')}"
    )
    if lost or missing_objects or mismatched or not contiguous or after.status_code != 201 or set(later) & referenced:
        print("crash: FAILED")
        raise SystemExit(1)
    print("crash: OK: nothing lost, nothing half-written")


def main() -> None:
    """Dispatch the step named on the command line."""
    step, args = sys.argv[1], sys.argv[2:]
    if step == "setup":
        setup(Path(args[0]))
    elif step == "wait":
        wait(args)
    elif step == "wait-s3":
        wait(args, path="/")
    elif step == "roundtrip":
        roundtrip(Path(args[0]), args[1], args[2])
    elif step == "crash":
        crash(Path(args[0]), args[1], args[2], int(args[3]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
