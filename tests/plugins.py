"""Naming plug-in capabilities in a test, as a bank does with LINGXI_CAPABILITIES."""

from __future__ import annotations

import os

from lingxi import registry
from lingxi.web import i18n

PLUGIN = "tests.fixtures.loyalty"
UNDECLARED = "tests.fixtures.loyalty_undeclared"


def use_plugins(*packages: str) -> None:
    """Name these plug-ins (none: Lingxi's own capabilities only) and forget what the registry found before."""
    if packages:
        os.environ[registry.ENV_VAR] = ",".join(packages)
    else:
        os.environ.pop(registry.ENV_VAR, None)
    registry.reset()
    i18n.catalogue.cache_clear()
