"""REANA's first run, as its chart's notes prescribe, done by a Job after the release.

Runs in the cluster, in REANA's own server image (Ubuntu 20.04, Python 3.8, the
``kubernetes`` client REANA uses), from a ConfigMap: standard library and that client only,
Python 3.8 syntax. The steps are the chart's NOTES.txt (reana 0.9.4), run in the server's
``rest-api`` container:

1. initialise the database: ``./scripts/create-database.sh``;
2. create the administrator and its access token: ``flask reana-admin create-admin-user
   --email E --password P`` (prints the token);
3. store the token as the Secret ``<release>-admin-access-token`` (key
   ``ADMIN_ACCESS_TOKEN``), which REANA's CronJobs read and the deploy exports, encrypted,
   as a stack output.

Idempotent: when the Secret exists, nothing is done (a re-run Job, a second ``up``). The
token and the password are never written to the log.
"""

from __future__ import annotations

import os
import sys
import time

TOKEN_KEY = "ADMIN_ACCESS_TOKEN"
SERVER_SELECTOR = "app=reana-server"
CONTAINER = "rest-api"


class FirstRunError(Exception):
    """A step failed; the message says which and what to do."""


class Api:
    """What the steps need from Kubernetes (the real one below; the tests bring a fake)."""

    def token_secret_exists(self) -> bool:
        raise NotImplementedError

    def ready_server_pod(self) -> str | None:
        raise NotImplementedError

    def run(self, pod: str, command: list[str]) -> tuple[int, str, str]:
        """Exit code, standard output and error of ``command`` in the rest-api container."""
        raise NotImplementedError

    def create_token_secret(self, token: str) -> None:
        raise NotImplementedError


def log(message: str) -> None:
    print("reana-first-run: " + message, flush=True)


def wait_for_server(api: Api, timeout: float, pause: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        pod = api.ready_server_pod()
        if pod is not None:
            return pod
        if time.monotonic() >= deadline:
            raise FirstRunError(
                f"the REANA server ({SERVER_SELECTOR}) was not ready in {timeout:.0f} s; "
                "see `kubectl get pods`"
            )
        time.sleep(pause)


def first_run(api: Api, email: str, password: str, secret: str, timeout: float = 1200) -> str:
    """The steps; returns what was done, for the log."""
    if api.token_secret_exists():
        return f"the Secret {secret} exists: REANA was set up before, nothing to do"
    pod = wait_for_server(api, timeout)
    code, output, errors = api.run(pod, ["./scripts/create-database.sh"])
    if code != 0:
        raise FirstRunError(f"create-database.sh exited {code}:\n{(output + errors)[-2000:]}")
    log("database initialised")
    command = ["flask", "reana-admin", "create-admin-user", "--email", email, "--password"]
    code, output, errors = api.run(pod, [*command, password])
    if code != 0:
        # its output holds the token, its errors may echo the password: neither is logged
        raise FirstRunError(
            f"create-admin-user exited {code}; run it by hand in the rest-api container to see why"
        )
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        raise FirstRunError(
            f"the administrator exists already but its token is not in the Secret {secret}: "
            "grant a new one with `flask reana-admin token-grant` in the rest-api container "
            f"and store it there (key {TOKEN_KEY})"
        )
    api.create_token_secret(lines[-1])
    return f"administrator {email} created; its token is in the Secret {secret}"


class KubernetesApi(Api):  # pragma: no cover - needs a cluster
    def __init__(self, namespace: str, secret: str) -> None:
        from kubernetes import client, config

        config.load_incluster_config()
        self.core = client.CoreV1Api()
        self.client = client
        self.namespace = namespace
        self.secret = secret

    def token_secret_exists(self) -> bool:
        from kubernetes.client.rest import ApiException

        try:
            self.core.read_namespaced_secret(self.secret, self.namespace)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    def ready_server_pod(self) -> str | None:
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=SERVER_SELECTOR)
        for pod in pods.items:
            statuses = pod.status.container_statuses or []
            if any(s.name == CONTAINER and s.ready for s in statuses):
                return str(pod.metadata.name)
        return None

    def run(self, pod: str, command: list[str]) -> tuple[int, str, str]:
        from kubernetes.stream import stream

        response = stream(
            self.core.connect_get_namespaced_pod_exec,
            pod,
            self.namespace,
            container=CONTAINER,
            command=command,
            stderr=True,
            stdout=True,
            stdin=False,
            tty=False,
            _preload_content=False,
        )
        output, errors = [], []
        while response.is_open():
            response.update(timeout=5)
            output.append(response.read_stdout() or "")
            errors.append(response.read_stderr() or "")
        response.close()
        return int(response.returncode or 0), "".join(output), "".join(errors)

    def create_token_secret(self, token: str) -> None:
        body = self.client.V1Secret(
            metadata=self.client.V1ObjectMeta(
                name=self.secret,
                labels={"app.kubernetes.io/managed-by": "gridcloud"},
            ),
            string_data={TOKEN_KEY: token},
        )
        self.core.create_namespaced_secret(self.namespace, body)


def main() -> int:  # pragma: no cover - the Job's entry point
    secret = os.environ["ADMIN_TOKEN_SECRET"]
    try:
        api = KubernetesApi(os.environ["REANA_NAMESPACE"], secret)
        log(first_run(api, os.environ["ADMIN_EMAIL"], os.environ["ADMIN_PASSWORD"], secret))
    except FirstRunError as error:
        log(f"failed: {error}")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
