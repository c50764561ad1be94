"""The PI inventory covers every personal contract column; the sharing list is checked; Markdown renders both."""

from __future__ import annotations

import pytest

from lingxi.errors import SpecError
from lingxi.privacy import inventory
from lingxi.privacy.inventory import Recipient
from lingxi.schema import TABLES


def test_inventory_covers_every_personal_contract_column() -> None:
    items = inventory.inventory()
    listed = {(i.table, i.column) for i in items}
    personal = {(t.name, c.name) for t in TABLES.values() for c in t.columns if c.personal}
    assert listed == personal and len(items) == len(listed)
    assert all(i.purpose and i.purpose != "(not stated)" for i in items), "every personal field states why"
    name = next(i for i in items if (i.table, i.column) == ("customers", "name"))
    assert (name.pi_class, name.personal) == ("C2", True)
    everything = inventory.inventory(personal_only=False)
    assert len(everything) == sum(len(t.columns) for t in TABLES.values())


def test_markdown_lists_each_field_and_says_nothing_is_shared_by_default() -> None:
    text = inventory.render_markdown()
    for i in inventory.inventory():
        assert f"| {i.table} | {i.column} | {i.pi_class} |" in text
    assert inventory.sharing_list() == []
    assert "to no third party" in text


def test_sharing_list_is_checked_against_the_contract() -> None:
    good = Recipient("某保险", "privacy@x.example", "joint offers", "SFTP", ("customers.name",), pia_id="PIA-1")
    assert inventory.sharing_list([good]) == [good]
    assert "| 某保险 |" in inventory.render_markdown(recipients=[good])
    bad = Recipient("Ad network", "a@b.example", "ads", "API", ("customers.nickname", "wallet.balance"))
    with pytest.raises(SpecError) as info:
        inventory.sharing_list([bad])
    message = str(info.value)
    assert "`customers.nickname`" in message and "`wallet.balance`" in message and "PIA" in message
