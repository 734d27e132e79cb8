"""MultiKueue: Kubernetes-native batch over the facility's shards (optional).

With ``shards.multikueue.enabled``, the Plan installs Kueue (its published Helm chart) on
the home cluster, which becomes MultiKueue's manager, and on every compute-only shard, a
worker; a Job submitted on the home cluster to the LocalQueue below runs on whichever shard
admits it first (gridcloud/plan/multikueue.py; docs/services/multikueue.md):

```yaml
shards:
  split: {cores: 600000, regions: [us-central1, us-east1]}
  multikueue:
    enabled: true
    namespace: batch        # where Jobs are submitted, on the home cluster
    queue: batch            # their LocalQueue (label kueue.x-k8s.io/queue-name: batch)
```
"""

from typing import Annotated

from pydantic import Field

from gridcloud.profile.base import Model

#: A namespace or LocalQueue name: a DNS label, short enough to join ``-kubeconfig``.
QueueName = Annotated[
    str,
    Field(pattern=r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$", description="a DNS label"),
]


class MultiKueue(Model):
    """Kueue's MultiKueue over the shards: the home cluster dispatches, the shards run."""

    enabled: bool = False
    namespace: QueueName = "batch"
    """The namespace Jobs are submitted in, on the home cluster (the same one on every
    shard: MultiKueue creates each Job's copy in its own namespace)."""
    queue: QueueName = "batch"
    """The LocalQueue Jobs name (label ``kueue.x-k8s.io/queue-name``), on every cluster."""
