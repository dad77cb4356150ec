"""The ``livret`` command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import typer
from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session

from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, make_session_factory
from app.demo import school as demo_service
from app.models.base import utcnow
from app.services import audit as audit_service
from app.services.documents import storage
from app.services.errors import DomainError
from app.services.notifications import outbox as mail_service
from app.services.notifications import reminders as reminder_service
from app.services.notifications import sender as mail_sender
from app.services.people import users as users_service
from app.services.referentials import loader as referential_service

app = typer.Typer(
    help="Livret — digital apprenticeship portfolio.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
seed_app = typer.Typer(help="Reference and demo data.", no_args_is_help=True)
user_app = typer.Typer(help="Accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
mail_app = typer.Typer(help="Outgoing email.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(seed_app, name="seed")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(mail_app, name="mail")


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """One transaction for one command: committed on success, rolled back on error."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url, pool_size=2)
    session = make_session_factory(engine)(info={"settings": settings})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url or Settings().database_url)
    return config


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(alembic_config(), revision)


@seed_app.command("referentials")
def seed_referentials(
    directory: Path = typer.Option(referential_service.REFERENTIALS_DIR, help="Seed folder."),
) -> None:
    """Load or update every certification referential (idempotent)."""
    with session_scope() as session:
        report = referential_service.load_all_referentials(session, directory)
    if not report.changed:
        typer.echo("Referentials: up to date, nothing changed.")
        return
    typer.echo(
        f"Referentials: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.deleted)} deleted."
    )


@seed_app.command("demo")
def seed_demo(
    apprentices: int = typer.Option(12, min=1, max=100_000, help="Number of apprentices."),
    seed: int = typer.Option(2026, help="Random seed: the same seed builds the same school."),
) -> None:
    """Create the demo school (idempotent) and print its logins."""
    with session_scope() as session:
        report = demo_service.seed_demo(session, apprentices=apprentices, seed=seed)
    typer.echo("Demo school created." if report.created else "Demo school already present.")
    if report.counts:
        typer.echo("  " + ", ".join(f"{n} {what}" for what, n in report.counts.items()))
    typer.echo(f"Demo logins (password for all: {demo_service.DEMO_PASSWORD}):")
    for role, email in report.logins:
        typer.echo(f"  {role:<11} {email}")


@user_app.command("create")
def user_create(
    email: str = typer.Option(...),
    name: str = typer.Option(..., help="Full name."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    admin: bool = typer.Option(False, "--admin", help="Grant administration rights."),
    locale: str = typer.Option("fr"),
) -> None:
    """Create an account."""
    try:
        with session_scope() as session:
            user = users_service.create_user(
                session,
                email=email,
                full_name=name,
                password=password,
                is_admin=admin,
                locale=locale,
            )
            typer.echo(f"Created user {user.id} <{user.email}>{' (admin)' if admin else ''}.")
    except DomainError as exc:
        typer.echo(f"Error: {exc.message.format(**exc.params)}", err=True)
        raise typer.Exit(2) from exc


@user_app.command("set-password")
def user_set_password(
    email: str = typer.Option(...),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Set an account's password."""
    try:
        with session_scope() as session:
            users_service.set_password(session, email, password)
        typer.echo("Password updated.")
    except DomainError as exc:
        typer.echo(f"Error: {exc.message.format(**exc.params)}", err=True)
        raise typer.Exit(2) from exc


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exit 1 at the first broken link."""
    with session_scope() as session:
        report = audit_service.verify_chain(session)
    if report.ok:
        typer.echo(f"Audit chain holds ({report.checked} events).")
        return
    typer.echo(
        f"Audit chain BROKEN at event {report.broken_event_id}: {report.reason} "
        f"({report.checked} events verified before it).",
        err=True,
    )
    raise typer.Exit(1)


@mail_app.command("send-pending")
def mail_send_pending() -> None:
    """Deliver the queued email that is due (retrying failures with backoff)."""
    settings = Settings()
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        factory = make_session_factory(engine)
        factory.configure(info={"settings": settings})
        report = mail_sender.send_pending(factory, settings)
    finally:
        engine.dispose()
    typer.echo(
        f"Mail: {report.sent} sent, {report.retried} to retry later, {report.failed} failed"
        + (f", {report.left_queued} left queued (no SMTP host)." if report.left_queued else ".")
    )


@mail_app.command("purge")
def mail_purge(
    older_than_days: int = typer.Option(
        90, min=1, help="Keep sent and failed messages younger than this."
    ),
) -> None:
    """Delete sent and failed messages older than the given age (for cron). Queued ones stay."""
    with session_scope() as session:
        purged = mail_service.purge_finished(
            session, utcnow(), keep=timedelta(days=older_than_days)
        )
    typer.echo(
        f"Mail: {purged} sent or failed message(s) older than {older_than_days} days deleted."
    )


@app.command("remind")
def remind(
    send: bool = typer.Option(False, "--send", help="Also deliver the queued mail now."),
) -> None:
    """Queue each person's digest of pending actions (at most one a day; for cron)."""
    settings = Settings()
    with session_scope(settings) as session:
        report = reminder_service.send_reminders(session, settings, date.today())
    typer.echo(
        f"Reminders: {report.reminded} queued, {report.already_reminded} already reminded "
        f"today, {report.copies} copies to supervisors."
    )
    if send:
        mail_send_pending()


export_app = typer.Typer(help="Documents: livrets as PDF.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("livrets")
def export_livrets(
    cohort: int = typer.Option(..., help="Cohort id."),
    out: Path = typer.Option(..., help="Folder to write the PDF files into (created if needed)."),
    locale: str = typer.Option("fr", help="Language of the documents: fr or en."),
) -> None:
    """Write the livret of every apprentice of a cohort as PDF, one file each.

    The command line is trusted (it holds the database): it reads the cohort as an
    administrator would, without an account."""
    from app.i18n import LOCALES
    from app.services.documents import livret as livret_service
    from app.services.documents import livret_pdf

    if locale not in LOCALES:
        typer.echo(f"Error: the locale must be one of {', '.join(LOCALES)}.", err=True)
        raise typer.Exit(2)
    settings = Settings()
    try:
        with session_scope(settings) as session:
            documents = livret_service.load_cohort_livrets(session, settings, cohort)
    except DomainError as exc:
        typer.echo(f"Error: {exc.message.format(**exc.params)}", err=True)
        raise typer.Exit(2) from exc
    out.mkdir(parents=True, exist_ok=True)
    for document in documents:
        target = out / livret_pdf.filename(document)
        target.write_bytes(livret_pdf.render_pdf(document, locale))
        size_kb = (target.stat().st_size + 1023) // 1024
        typer.echo(f"Wrote {target} ({document.apprentice.full_name}, {size_kb} KB)")
    typer.echo(f"{len(documents)} livret(s) written to {out}.")


attachments_app = typer.Typer(help="Evidence files.", no_args_is_help=True)
app.add_typer(attachments_app, name="attachments")


@attachments_app.command("sweep")
def attachments_sweep(
    delete: bool = typer.Option(False, "--delete", help="Remove them (default: only list)."),
    min_age_hours: int = typer.Option(
        24, min=1, help="Leave alone files younger than this (uploads in progress)."
    ),
) -> None:
    """List, or remove with --delete, attachment files that no attachment row names (what a
    crash between storing a file and committing can leave behind)."""
    settings = Settings()
    with session_scope(settings) as session:
        report = storage.sweep_unreferenced_files(
            session,
            settings.attachments_dir,
            now=utcnow(),
            min_age=timedelta(hours=min_age_hours),
            delete=delete,
        )
    for path in report.orphans:
        typer.echo(f"{'Removed' if delete else 'Unreferenced'}: {path}")
    typer.echo(
        f"Attachments: {report.referenced} referenced files, {len(report.orphans)} unreferenced "
        f"older than {min_age_hours} h"
        + (f" ({report.removed} removed)" if delete else " (run with --delete to remove them)")
        + f", {report.recent} unreferenced but recent, left alone."
    )


def main() -> None:
    app()
