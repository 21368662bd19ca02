"""`flask --app app kit doctor`: is this deployment ready to install from Kit?

Each check returns one line: PASS, WARN (fine for development, not for
production) or FAIL, with the fix. Nothing here changes anything. The
configuration checks are in app/cli/checks.py; here, what the deployment
reaches: the database, the kept token pairs, Kit's endpoints and clock.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext
from sqlalchemy import text

from app.cli.checks import (
    Check,
    cookies,
    encryption_keys,
    outgoing_mail,
    public_url,
    redirect_uri,
    secret_key,
    shared_store,
    weak,
)
from app.config import public_base_url
from app.extensions import db
from app.kit.probe import Probe, clock_skew, probe_endpoints

MAX_CLOCK_SKEW = 60  # seconds; token expiry is computed from Kit's clock and ours


def run_checks(app: Flask) -> list[Check]:
    checks: list[Callable[[Flask], Check | list[Check]]] = [
        secret_key,
        encryption_keys,
        redirect_uri,
        public_url,
        settings_url,
        cookies,
        shared_store,
        outgoing_mail,
        database,
        token_pairs,
        kit_endpoints,
    ]
    results: list[Check] = []
    for check in checks:
        outcome = check(app)
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results


def settings_url(app: Flask) -> Check:
    """The "App settings URL" to paste into the app's details at Kit."""
    base = public_base_url(app.config)
    with app.test_request_context():
        path = url_for("settings.page")
    if not base:
        return Check("app settings URL", "FAIL", f"no public origin for {path}")
    url = f"{base}{path}"
    if not url.startswith("https://"):
        return weak(app, "app settings URL", url, "Kit links to https URLs only")
    return Check("app settings URL", "PASS", f"{url} (paste into Kit's app details)")


def database(app: Flask) -> list[Check]:
    with app.app_context():
        engine = db.engine
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT 1 FOR UPDATE"))
        except Exception as exc:  # any driver error: report, don't crash
            return [
                Check(
                    "database",
                    "FAIL",
                    f"{engine.url.render_as_string(hide_password=True)}: "
                    f"{type(exc).__name__}",
                    "check DATABASE_URL, then run flask --app app db upgrade",
                )
            ]
        name = engine.dialect.name
    reachable = Check("database", "PASS", f"{name} answers")
    if name == "postgresql":
        return [reachable, Check("row locks", "PASS", "SELECT ... FOR UPDATE works")]
    return [
        reachable,
        weak(
            app,
            "row locks",
            f"{name}: one database-wide write lock (safe, on one host only)",
            "use PostgreSQL (DATABASE_URL=postgresql+psycopg://...) for several hosts",
        ),
    ]


def token_pairs(app: Flask) -> Check:
    """Pairs Kit issued that wait on disk, and refreshes whose outcome is
    unknown (see `app.cli.connections.token_pair_report`)."""
    from app.cli.connections import token_pair_report

    with app.app_context():
        try:
            status, detail, fix = token_pair_report()
        except Exception as exc:  # any driver error: the database check says it
            return Check("token pairs", "WARN", f"not checked ({type(exc).__name__})")
    return Check("token pairs", status, detail, fix)


def kit_endpoints(app: Flask) -> list[Check]:
    """Each endpoint must answer over HTTP; any answer (even 400/401) will do."""
    probes = probe_endpoints(app.extensions["kit_settings"])
    results = [endpoint(probe) for probe in probes]
    kit_date = next((p.date for p in probes if p.answered and p.date), None)
    results.append(clock(kit_date))
    return results


def endpoint(probe: Probe) -> Check:
    if probe.answered:
        return Check(probe.name, "PASS", f"{probe.url} answers ({probe.status})")
    if probe.status is None:
        detail, fix = f"{probe.url}: {probe.error}", "check the KIT_* URLs"
    else:
        detail, fix = f"{probe.url} answered {probe.status}", "try later"
    return Check(probe.name, "FAIL", detail, fix)


def clock(kit_date: str | None) -> Check:
    if not kit_date:
        return Check("clock", "WARN", "no Date header from Kit to compare with")
    skew = clock_skew(kit_date)
    if abs(skew) > MAX_CLOCK_SKEW:
        return Check(
            "clock",
            "FAIL",
            f"{skew:+.0f} s off Kit's clock",
            "sync the system clock (NTP): token expiry depends on it",
        )
    return Check("clock", "PASS", f"{skew:+.0f} s off Kit's clock")


@click.command()
@click.option(
    "--review",
    is_flag=True,
    help="Kit's App Store review checklist: every line PASS or FAIL, the "
    "OAuth paths reviewers try, and the values for Kit's app details page.",
)
@click.option(
    "--sandbox",
    is_flag=True,
    help="With --review: try the OAuth paths against the Kit sandbox even "
    "outside sandbox mode.",
)
@with_appcontext
def doctor(review: bool, sandbox: bool) -> None:
    """Check this deployment: secrets, redirect URI, cookies, database, Kit.

    One PASS / WARN / FAIL line per check, with the fix. WARN is fine for
    development and wrong for production (where it counts as FAIL). Exits 1
    if anything failed. Changes nothing. With --review, Kit's App Store
    review checklist too (app/cli/review.py), where a WARN is a FAIL.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    results = run_checks(app)
    if review:
        from app.cli.review import paste_values, review_checks, strict
        from app.cli.review_journeys import oauth_paths

        results = strict([*results, *review_checks(app)])
        results += oauth_paths(app, sandbox)
    for check in results:
        click.echo(check.line())
    failed = sum(check.status == "FAIL" for check in results)
    click.echo(f"{len(results)} checks, {failed} failed")
    if review:
        click.echo("\nPaste into your app's details at Kit:")
        for label, value in paste_values(app).items():
            click.echo(f"  {label + ':':<22} {value}")
    if failed:
        raise SystemExit(1)
