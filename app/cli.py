"""The `tracker` command line."""

from pathlib import Path
from typing import Annotated

import typer

from app.config import get_settings

cli = typer.Typer(help="Course Project Tracker: serve the API and run course chores.", no_args_is_help=True,
                  add_completion=False)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str | None = None):  # noqa: ANN201 (alembic is imported lazily)
    """The Alembic configuration of this project, optionally for another database URL."""
    from alembic.config import Config

    # A source checkout keeps alembic.ini beside app/; an installed package finds it in the working folder.
    root = PROJECT_ROOT if (PROJECT_ROOT / "alembic.ini").exists() else Path.cwd()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Bring the database schema up to date (alembic upgrade)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)
    typer.echo(f"Database at {revision}: {get_settings().database_url}")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to bind [TRACKER_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="port [TRACKER_PORT]")] = None,
    reload: Annotated[bool, typer.Option(help="reload on code changes")] = False,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
) -> None:
    """Serve the API and the staff pages with uvicorn."""
    import uvicorn

    settings = get_settings()
    uvicorn.run("app.main:app", host=host or settings.host, port=port or settings.port, reload=reload,
                workers=None if reload else workers)


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
            user = user_create(session, username=username, password=password, name=name, email=email,
                               is_admin=admin, now=utcnow())
        except AppError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from None
        session.commit()
        typer.echo(f"Created user {user.username} (id {user.id}){' with admin rights' if admin else ''}.")


def main() -> None:
    """Entry point of the `tracker` console script."""
    cli()
