"""The privacy capability's pipeline stages: corrections re-applied after each load, consent history imported."""

from __future__ import annotations

from lingxi.auth.audit import Who
from lingxi.capability import StageContext
from lingxi.privacy.consent import import_lake_consents
from lingxi.privacy.correction import apply_corrections


def reapply_corrections(ctx: StageContext) -> str:
    """Re-apply recorded corrections to datasets a load replaced, so a re-sent extract cannot undo them."""
    applied = {name: version for name, version in apply_corrections(ctx.lake).items() if version is not None}
    if not applied:
        return "no correction to re-apply"
    return "re-applied to " + ", ".join(f"{name} (version {version})" for name, version in sorted(applied.items()))


def import_consents(ctx: StageContext) -> str:
    """Bring consent grants and withdrawals from the lake's `consent_events` into the consent ledger."""
    report = import_lake_consents(ctx.lake, ctx.engine, actor=Who("pipeline"), hash_key=ctx.hash_key)
    return (
        f"{report.inserted:,} new consent events, {report.already_present:,} already in the ledger, "
        f"{report.erased_skipped:,} of erased customers skipped"
    )
