"""Extract replace-forcing (``ForceNew: true``) property paths from terraform-provider-google.

Not run by the tests: it made ``gcp_forcenew.json`` beside it, which the tests read. Re-run it
when pulumi-gcp's bridged provider moves to a newer terraform-provider-google:

    python tests/program/replacement/extract_forcenew.py REPO_DIR COMMIT > \
        tests/program/replacement/gcp_forcenew.json

``REPO_DIR`` is a git clone of hashicorp/terraform-provider-google. The Go schemas are read
with a small scanner (strings and comments skipped, braces matched): a path is the chain of
``"key": {`` blocks around a ``ForceNew: true``. ``"node_config": schemaNodeConfig()`` is
followed into node_config.go. Paths are camelCased as Pulumi spells the inputs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

#: Pulumi type token -> the file (or files, for an IAM member and its parent's schema)
RESOURCES: dict[str, str | tuple[str, ...]] = {
    "gcp:container/cluster:Cluster": "google/services/container/resource_container_cluster.go",
    "gcp:container/nodePool:NodePool": "google/services/container/resource_container_node_pool.go",
    "gcp:compute/network:Network": "google/services/compute/resource_compute_network.go",
    "gcp:compute/subnetwork:Subnetwork": "google/services/compute/resource_compute_subnetwork.go",
    "gcp:compute/router:Router": "google/services/compute/resource_compute_router.go",
    "gcp:compute/routerNat:RouterNat": "google/services/compute/resource_compute_router_nat.go",
    "gcp:serviceaccount/account:Account": (
        "google/services/resourcemanager/resource_google_service_account.go"
    ),
    "gcp:projects/iAMMember:IAMMember": (
        "google/tpgiamresource/resource_iam_member.go",
        "google/services/resourcemanager/iam_project.go",
    ),
    "gcp:cloudrun/iamMember:IamMember": (
        "google/tpgiamresource/resource_iam_member.go",
        "google/services/cloudrun/iam_cloud_run_service.go",
    ),
    "gcp:projects/iAMCustomRole:IAMCustomRole": (
        "google/services/resourcemanager/resource_google_project_iam_custom_role.go"
    ),
    "gcp:pubsub/topic:Topic": "google/services/pubsub/resource_pubsub_topic.go",
    "gcp:billing/budget:Budget": "google/services/billingbudgets/resource_billing_budget.go",
    "gcp:storage/bucket:Bucket": "google/services/storage/resource_storage_bucket.go",
    "gcp:storage/bucketObject:BucketObject": (
        "google/services/storage/resource_storage_bucket_object.go"
    ),
    "gcp:cloudfunctionsv2/function:Function": (
        "google/services/cloudfunctions2/resource_cloudfunctions2_function.go"
    ),
}
FUNCTIONS = {"schemaNodeConfig()": "google/services/container/node_config.go"}


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def force_new_paths(source: str, show: callable, prefix: tuple[str, ...] = ()) -> set[str]:
    paths: set[str] = set()
    stack: list[str | None] = []
    i, n = 0, len(source)
    pending_key: str | None = None
    while i < n:
        c = source[i]
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
            continue
        if source.startswith("/*", i):
            i = source.find("*/", i) + 2
            continue
        if c == "`":
            i = source.find("`", i + 1) + 1
            continue
        if c == '"':
            j = i + 1
            while source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            literal = source[i + 1 : j]
            rest = source[j + 1 : j + 200]
            match = re.match(r"\s*:\s*(&schema\.Schema)?\{", rest)
            func = re.match(r"\s*:\s*(schema\w+\(\))", rest)
            if match:
                pending_key = literal
            elif func and func.group(1) in FUNCTIONS:
                inner = show(FUNCTIONS[func.group(1)])
                body = inner[inner.find("func " + func.group(1).removesuffix("()")) :]
                keys = (*prefix, *(k for k in stack if k), literal)
                paths |= force_new_paths(body, show, keys)
            i = j + 1
            continue
        if c == "{":
            stack.append(pending_key)
            pending_key = None
        elif c == "}":
            if stack:
                stack.pop()
            if not stack and prefix:
                break  # end of the followed function
        elif source.startswith("ForceNew:", i):
            value = re.match(r"ForceNew:\s*(\w+)", source[i:])
            keys = (*prefix, *(k for k in stack if k))
            if value and value.group(1) == "true" and keys:
                paths.add(".".join(camel(k) for k in keys))
        i += 1
    return paths


def main() -> None:
    repo, commit = sys.argv[1], sys.argv[2]

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "-C", repo, "show", f"{commit}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    table = {
        typ: sorted(
            set().union(
                *(
                    force_new_paths(show(p), show)
                    for p in ((path,) if isinstance(path, str) else path)
                )
            )
        )
        for typ, path in RESOURCES.items()
    }
    json.dump(
        {"source": f"hashicorp/terraform-provider-google@{commit}", "forceNew": table},
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
