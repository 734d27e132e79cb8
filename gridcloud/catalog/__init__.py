"""Machine shapes, zones and dated prices: what gridcloud knows about Google Cloud offline."""

from __future__ import annotations

from gridcloud.catalog.model import (
    Accelerator,
    Catalog,
    MachinePrice,
    MachineType,
    PriceTable,
    load_catalog,
)

__all__ = ["Accelerator", "Catalog", "MachinePrice", "MachineType", "PriceTable", "load_catalog"]
