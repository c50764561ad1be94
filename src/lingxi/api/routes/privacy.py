"""The personal-information inventory and the third-party sharing list as JSON (PIPL arts. 17, 23, 51).

Both are generated from the data contract's annotations and the declared `SHARING` list, and carry no
customer data, so any signed-in user may read them: an RM answering a customer's "what do you hold on
me and why?" needs them as much as compliance does. The console renders the same content at
/privacy/inventory and /privacy/sharing.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends

from lingxi.api.deps import AUTHENTICATED, requires
from lingxi.api.schemas_privacy import InventoryItemPublic, InventoryPublic, RecipientPublic, SharingPublic
from lingxi.auth.scope import Principal
from lingxi.privacy.inventory import PI_CLASS_MEANING, inventory, sharing_list

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])
SignedIn = Annotated[Principal, Depends(requires(AUTHENTICATED))]


def inventory_public() -> InventoryPublic:
    items = [InventoryItemPublic.model_validate(asdict(i)) for i in inventory()]
    return InventoryPublic(data=items, count=len(items), classes=dict(PI_CLASS_MEANING))


def sharing_public() -> SharingPublic:
    found = [RecipientPublic.model_validate(asdict(r)) for r in sharing_list()]
    return SharingPublic(data=found, count=len(found), shares=bool(found))


@router.get("/inventory")
def read_inventory(_: SignedIn) -> InventoryPublic:
    """Every personal field Lingxi collects: table, column, PI class, purpose, whether required."""
    return inventory_public()


@router.get("/sharing")
def read_sharing(_: SignedIn) -> SharingPublic:
    """The third parties that receive personal information, with purpose, method, fields and PIA id."""
    return sharing_public()
