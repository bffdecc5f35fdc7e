"""The `tracker` command line."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from app.config import Settings


def get_settings() -> "Settings":
    """The settings, imported on first use: `tracker check` needs none, and pydantic-settings
    takes about half a second to import."""
    from app.config import get_settings as settings

    return settings()


cli = typer.Typer(
    help="Course Project Tracker: serve the API and run course chores.", no_args_is_help=True, add_completion=False
)


@cli.callback()
def start(ctx: typer.Context) -> None:
    """Stop the checker's template process (see main) unless the command is `check`."""
    if ctx.invoked_subcommand != "check":
        from app.formatcheck.forked import template_discard

        template_discard()


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Bring the database schema up to date (alembic upgrade)."""
    from alembic import command

    from app.db import alembic_config

    command.upgrade(alembic_config(), revision)
    typer.echo(f"Database at {revision}: {get_settings().database_url}")


ERR_SQLITE_WORKERS = (
    "error: SQLite allows one writer at a time and its file is local to one host, so several "
    "worker processes would queue on its lock; run one worker, or set TRACKER_DATABASE_URL to "
    "a PostgreSQL database."
)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to bind [TRACKER_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="port [TRACKER_PORT]")] = None,
    reload: Annotated[bool, typer.Option(help="reload on code changes")] = False,
    workers: Annotated[int | None, typer.Option(min=1, help="processes, PostgreSQL only [TRACKER_WORKERS]")] = None,
    notify: Annotated[
        bool | None, typer.Option("--notify/--no-notify", help="also run the notice sender [TRACKER_NOTIFY_LOOP]")
    ] = None,
) -> None:
    """Serve the API and the staff pages with uvicorn (several workers on PostgreSQL), and the notice sender."""
    import uvicorn

    from app.db import get_engine, utcnow
    from app.notify.service import SenderLoop

    settings = get_settings()
    count = workers or settings.workers
    if count > 1 and settings.database_url.startswith("sqlite"):
        typer.echo(ERR_SQLITE_WORKERS, err=True)
        raise typer.Exit(2)
    # One sender in the serving process, whatever the number of workers: the workers only serve.
    loop = (
        SenderLoop(get_engine(), settings=settings, clock=utcnow)
        if (settings.notify_loop if notify is None else notify)
        else None
    )
    if loop is not None:
        loop.start()
    try:
        # Forwarded headers are applied by the app itself, from TRACKER_TRUSTED_PROXIES only.
        uvicorn.run(
            "app.main:app",
            host=host or settings.host,
            port=port or settings.port,
            reload=reload,
            workers=None if reload else count,
            proxy_headers=False,
        )
    finally:
        if loop is not None:
            loop.stop()


@cli.command("create-user")
def create_user(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    name: Annotated[str, typer.Option(help="display name")] = "",
    email: Annotated[str | None, typer.Option()] = None,
    admin: Annotated[bool, typer.Option("--admin", help="make the user a global admin")] = False,
) -> None:
    """Create a user who can log in with the password."""
    from sqlmodel import Session

    from app.db import get_engine, utcnow
    from app.errors import AppError
    from app.people.service import user_create

    with Session(get_engine()) as session:
        try:
            user = user_create(
                session, username=username, password=password, name=name, email=email, is_admin=admin, now=utcnow()
            )
        except AppError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from None
        session.commit()
        typer.echo(f"Created user {user.username} (id {user.id}){' with admin rights' if admin else ''}.")


@cli.command()
def gc(dry_run: Annotated[bool, typer.Option("--dry-run", help="list the files, remove nothing")] = False) -> None:
    """Remove stored files that no version names, and staged leftovers of crashes, older than an hour."""
    from sqlmodel import Session

    from app.db import get_engine, utcnow
    from app.storage import get_store
    from app.storage.gc import storage_gc

    store = get_store()
    with Session(get_engine()) as session:
        names = storage_gc(session, store=store, now=utcnow(), dry_run=dry_run)
    for name in names:
        typer.echo(f"{'would remove' if dry_run else 'removed'} {name}")
    plural = "" if len(names) == 1 else "s"
    typer.echo(f"{'Would remove' if dry_run else 'Removed'} {len(names)} orphaned file{plural} from {store.location}.")


@cli.command()
def check(
    files: Annotated[list[str], typer.Argument(help="PDF files to check", show_default=False)],
    ruleset: Annotated[str, typer.Option(help="rule set: proposal, report, poster or slides")] = "report",
    as_json: Annotated[bool, typer.Option("--json", help="one JSON report per line, each with a 'file' key")] = False,
    pictures: Annotated[
        str | None,
        typer.Option(metavar="DIR", help="save each page a finding concerns, the problem outlined, as PNG in DIR"),
    ] = None,
) -> None:
    """Check PDFs against the AAAI format rules; exit 0 all accepted, 1 any rejected, 2 usage error."""
    from app.formatcheck.cli import run_check_command

    raise typer.Exit(run_check_command(files, ruleset, as_json, pictures))


@cli.command("import-roster")
def import_roster(
    course: Annotated[str, typer.Argument(help="the course's id or code")],
    file: Annotated[Path, typer.Argument(help="roster CSV: student_no,name,email[,role]", exists=True, dir_okay=False)],
    codes: Annotated[
        Path | None, typer.Option("--codes", help="write the new users' activation codes to this CSV", dir_okay=False)
    ] = None,
    email_codes: Annotated[bool, typer.Option("--email-codes", help="also email each new user their code")] = False,
) -> None:
    """Import a roster CSV into a course (like the API); new users' codes go to --codes (else stdout)."""
    import csv
    import sys

    from sqlmodel import Session, select

    from app.access import is_row_id
    from app.db import get_engine, utcnow
    from app.errors import InvalidInput
    from app.models import Course
    from app.roster.service import roster_import

    with Session(get_engine(), expire_on_commit=False) as session:
        found = session.get(Course, int(course)) if course.isdigit() and is_row_id(int(course)) else None
        found = found or session.exec(select(Course).where(Course.code == course)).first()
        if found is None:
            typer.echo(f"error: no course with id or code {course!r}", err=True)
            raise typer.Exit(1)
        try:
            result = roster_import(
                session, course=found, actor=None, data=file.read_bytes(), now=utcnow(), email_codes=email_codes
            )
        except InvalidInput as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            for error in exc.errors or []:
                typer.echo(f"  line {error['line']}: {error['message']}", err=True)
            raise typer.Exit(1) from None
        session.commit()
    rows = [(u.student_no or "", u.username, u.email or "", code) for u, code in result.codes]
    out = codes.open("w", newline="", encoding="utf-8") if codes else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(["student_no", "username", "email", "code"])
        writer.writerows(rows)
    finally:
        if codes:
            out.close()
    typer.echo(
        f"{found.code}: {len(result.codes)} users created, {len(result.enrolled_existing)} existing users "
        f"enrolled, {len(result.already_enrolled)} already enrolled."
        + (f" Activation codes written to {codes}." if codes else ""),
        err=codes is None,
    )


@cli.command()
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="do nothing when the demo course exists")] = False,
) -> None:
    """Load the demo course DL2026 in week 16: 60 students in 16 groups, proposals, reports, reviews (README)."""
    from sqlmodel import Session

    from app.db import get_engine, utcnow
    from app.demo import DEMO_COURSE_CODE, demo_course, demo_load

    with Session(get_engine(), expire_on_commit=False) as session:
        if demo_course(session) is not None:
            if if_empty:
                typer.echo(f"The demo course {DEMO_COURSE_CODE} is already loaded; nothing to do.")
                return
            typer.echo(f"error: the demo course {DEMO_COURSE_CODE} already exists.", err=True)
            raise typer.Exit(1)
        summary = demo_load(session, now=utcnow())
        session.commit()
    typer.echo(
        f"Loaded the demo course {summary.course.code} (id {summary.course.id}, starts "
        f"{summary.course.start_date}): {summary.students} students in {summary.groups} groups. "
        "Logins: admin/admin-pass, lecturer/lecturer-pass, ta1 and ta2/ta-pass, s01..s60/student-pass."
    )


notify_cli = typer.Typer(help="Email notices: deliver the outbox, reminders and digests.", no_args_is_help=True)
cli.add_typer(notify_cli, name="notify")


@notify_cli.command("run")
def notify_run(
    once: Annotated[bool, typer.Option("--once", help="one round, then exit (for cron)")] = False,
    interval: Annotated[
        float | None, typer.Option(min=0.1, help="seconds between rounds [TRACKER_NOTIFY_INTERVAL_S]")
    ] = None,
) -> None:
    """Run the notice sender: write due reminders and digests, deliver the outbox over SMTP, repeat."""
    import time

    from app.db import get_engine, utcnow
    from app.notify.sender import smtp_target
    from app.notify.service import MSG_NO_SMTP, notify_round

    settings = get_settings()
    if settings.smtp_url:
        try:
            smtp_target(settings.smtp_url)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
    else:
        typer.echo(MSG_NO_SMTP, err=True)
    while True:
        result = notify_round(get_engine(), settings=settings, clock=utcnow)
        d = result.delivery
        typer.echo(
            f"reminders written {result.reminders}, digests written {result.digests}; "
            f"sent {d.sent}, to retry {d.retrying}, failed {d.failed}"
        )
        if once:
            return
        time.sleep(interval or settings.notify_interval_s)


def main() -> None:
    """Entry point of the `tracker` console script."""
    import os

    from app.formatcheck.forked import template_start

    # The checker's imports take as long as typer's start-up and parse (it imports pydantic for
    # its validators), so a template process imports the checker meanwhile, for `check`'s workers.
    # Nothing here looks at the command line: typer alone parses it, and the callback above stops
    # the template for every other command. The console script (app.launch) has started it
    # already, before typer was imported; this covers `python -m app.cli`.
    template_start(os.cpu_count() or 1)
    cli()


if __name__ == "__main__":  # `python -m app.cli check ...` where the console script is not installed
    main()
