"""`lingxi consent ...`, `lingxi dsr ...` and `lingxi privacy inventory`: the privacy capability for operators.

Thin wrappers around lingxi.privacy. Whoever runs them already reaches the operational store, so they
act without signing in; `--actor` names the member of staff handling the request (the data-protection
officer, a call-centre agent) and defaults to `cli:<os user>`. Every change is audited under that actor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from lingxi.auth.audit import Who
from lingxi.cli.context import console, friendly_errors, keyring, open_lake, operator, settings
from lingxi.engine import Engine, engine_from
from lingxi.errors import InputError
from lingxi.privacy import consent, correction, dsr, inventory
from lingxi.store import Lake

consent_app = typer.Typer(help="Record and read customers' consents (the consent ledger).", no_args_is_help=True)
dsr_app = typer.Typer(help="Data-subject requests: export, correct or delete a customer's data.", no_args_is_help=True)
privacy_app = typer.Typer(help="The personal-information inventory and sharing list.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(consent_app, name="consent")
    app.add_typer(dsr_app, name="dsr")
    app.add_typer(privacy_app, name="privacy")


def _who(actor: str | None) -> Who:
    return Who(actor or operator())


@contextmanager
def _lake_and_engine() -> Iterator[tuple[Lake, Engine]]:
    with open_lake() as lake, engine_from(settings()) as engine:
        yield lake, engine


ActorOption = Annotated[str | None, typer.Option("--actor", help="Who handles this (default cli:<os user>).")]
Customer = Annotated[str, typer.Argument(help="The customer's number (CIF).")]


@consent_app.command("record")
@friendly_errors
def record(
    customer_id: Customer,
    purpose: Annotated[str, typer.Option(help="marketing, personalisation or third_party_sharing.")],
    channel: Annotated[str, typer.Option(help="all, sms, push, email, wechat or call.")],
    status: Annotated[str, typer.Option(help="granted or withdrawn.")],
    source: Annotated[str, typer.Option(help="app, branch, call_centre, sms_reply or wechat.")],
    key: Annotated[str, typer.Option("--key", help="Idempotency key: never records twice for the same customer.")],
    at: Annotated[str | None, typer.Option("--at", help="When the customer acted (ISO 8601 with zone); now.")] = None,
    notice: Annotated[str | None, typer.Option("--notice", help="Privacy notice version (grants).")] = None,
    evidence: Annotated[str | None, typer.Option("--evidence", help="Form, script or reply id (grants).")] = None,
    actor: ActorOption = None,
) -> None:
    """Record a grant or withdrawal in the consent ledger."""
    try:
        occurred = datetime.fromisoformat(at) if at else datetime.now(UTC)
    except ValueError:
        raise InputError(f"`--at {at}` is not an ISO 8601 time", hint="e.g. 2026-11-02T09:00:00+08:00") from None
    with open_lake() as lake:
        done = consent.record_consent(
            lake.store,
            customer_id=customer_id,
            purpose=purpose,
            channel=channel,
            status=status,
            source=source,
            occurred_at=occurred,
            idempotency_key=key,
            actor=_who(actor),
            hash_key=keyring().hash,
            notice_version=notice,
            evidence=evidence,
        )
    word = "recorded" if done.created else "already recorded (same key)"
    console.print(f"[green]{word}[/] event {done.event.event_id}: {purpose}/{channel} {status}")


@consent_app.command("show")
@friendly_errors
def show(
    customer_id: Customer,
    history: Annotated[bool, typer.Option("--history", help="Every ledger event, not only the current state.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """A customer's current consent per purpose and channel (no record: not granted)."""
    with open_lake() as lake:
        state = consent.current_consent(lake.store, customer_id)
        events = consent.history(lake.store, customer_id) if history else list(state.latest)
    if as_json:
        rows = [
            {**asdict(e), "occurred_at": e.occurred_at.isoformat(), "recorded_at": e.recorded_at.isoformat()}
            for e in events
        ]
        decisions = {
            f"{p}/{c}": state.allows(p, c).reason or "ALLOWED"
            for p in consent.PURPOSES
            for c in consent.CONCRETE_CHANNELS
        }
        print(json.dumps({"customer_id": customer_id, "events": rows, "decisions": decisions}, ensure_ascii=False))  # noqa: T201
        return
    table = RichTable(title=f"Consent of {escape(customer_id)} (times in UTC)", title_justify="left")
    for col in ("purpose", "channel", "status", "occurred", "source", "event"):
        table.add_column(col)
    for e in events:
        table.add_row(e.purpose, e.channel, e.status, f"{e.occurred_at:%Y-%m-%d %H:%M:%S}", e.source, e.event_id)
    console.print(table if events else f"no consent recorded for {escape(customer_id)}: nothing is granted")
    console.print(f"personalisation: {'allowed' if state.personalisation() else 'off (non-personalised only)'}")


@consent_app.command("import")
@friendly_errors
def import_(actor: ActorOption = None) -> None:
    """Import the lake's `consent_events` history into the ledger (safe to repeat)."""
    with _lake_and_engine() as (lake, engine):
        report = consent.import_lake_consents(lake, engine, actor=_who(actor), hash_key=keyring().hash)
    console.print(
        f"[green]imported[/] {report.inserted:,} new consent events ({report.already_present:,} "
        f"already in the ledger, {report.erased_skipped:,} of erased customers skipped)"
    )


@dsr_app.command("export")
@friendly_errors
def export(
    customer_id: Customer,
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")],
    actor: ActorOption = None,
) -> None:
    """Write everything held on a customer to one JSON file (access and portability request)."""
    with _lake_and_engine() as (lake, engine):
        document, receipt = dsr.export_customer(lake, engine, customer_id, actor=_who(actor), hash_key=keyring().hash)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"[green]exported[/] to {out} (request {receipt.request_id})")


@dsr_app.command("correct")
@friendly_errors
def correct(
    customer_id: Customer,
    changes: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="field=value (repeat): name, birth_date, gender, city, occupation, address, phone, id_no (hashed).",
        ),
    ],
    actor: ActorOption = None,
) -> None:
    """Correct a customer's fields: recorded, and applied to the lake in a new snapshot."""
    parsed: dict[str, str | None] = {}
    for item in changes:
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"`--set {item}` is not column=value", hint="e.g. --set name=张三")
        parsed[name.strip()] = value or None
    with open_lake() as lake:
        receipt = correction.correct_customer(lake, customer_id, parsed, actor=_who(actor), hash_key=keyring().hash)
    version = receipt.stores["lake"]["applied_version"]
    console.print(
        f"[green]corrected[/] {', '.join(sorted(parsed))} (request {receipt.request_id}; "
        f"customers version {version if version else 'unchanged'})"
    )


@dsr_app.command("delete")
@friendly_errors
def delete(
    customer_id: Customer,
    actor: ActorOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a customer from every store (lake, quarantine, operational store) and print the receipt."""
    if not yes:
        typer.confirm(f"Erase customer {customer_id} from every store? This cannot be undone", abort=True)
    with _lake_and_engine() as (lake, engine):
        receipt = dsr.erase_customer(lake, engine, customer_id, actor=_who(actor), hash_key=keyring().hash)
    print(json.dumps(receipt.as_dict(), ensure_ascii=False, indent=2, default=str))  # noqa: T201 - the receipt


@privacy_app.command("inventory")
@friendly_errors
def inventory_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of Markdown.")] = False,
) -> None:
    """The personal-information inventory and third-party sharing list, from the data contract."""
    if as_json:
        doc = {
            "fields": [asdict(i) for i in inventory.inventory()],
            "sharing": [asdict(r) for r in inventory.sharing_list()],
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))  # noqa: T201
        return
    print(inventory.render_markdown(), end="")  # noqa: T201 - Markdown for files and pipes
