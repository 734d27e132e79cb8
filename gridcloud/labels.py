"""The labels gridcloud puts on what it creates, named once.

A leaf (nothing of gridcloud imported): the Plan puts them on the GCP resources and the node
pools (``plan/expand.py``), the program writes them, the cost report queries the billing
export by them (``report/query.py``) and ``destroy`` finds the leftovers by them
(``engine/leftovers.py``). Renaming one loses every resource and billing row labelled with the
old name.
"""

from __future__ import annotations

#: The label every GCP resource of a facility carries, with the facility's name as value.
FACILITY_LABEL = "gridcloud-facility"
#: The label every GCP resource of a facility of shards carries (the home cluster's and
#: every compute-only shard's), with the home facility's name: a budget scoped by label
#: counts the whole facility by it (its filter takes one label pair, and each shard's
#: resources carry their own ``FACILITY_LABEL`` value, ``<facility>-<shard>``).
BUDGET_LABEL = "gridcloud-budget"
#: The label a pool's nodes carry (GCP resource label), with the pool's name: the billing
#: export (`gridcloud cost report`) names the pool by it.
POOL_LABEL = "gridcloud-pool"
#: Who made the resource.
MANAGED_BY = {"managed-by": "gridcloud"}
