"""The Google Cloud half of ``gridcloud check``: credentials, the project, its APIs and quotas.

Through the real client libraries: ``google.auth.default`` (Application Default
Credentials), Compute Engine's ``projects.get`` and ``regions.get`` (their ``quotas``), and
Service Usage's ``services.batchGet``. Each failure becomes a check with the fix, told as
:mod:`gridcloud.google_errors` classifies it (the same words as ``destroy`` and ``catalog
refresh``); a check's own fix where it knows better (the roles a project read needs); nothing
here raises to the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcloud.check.model import CheckResult
from gridcloud.check.permissions import billing_permissions
from gridcloud.google_errors import LOGIN, classify, failures, first_line

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from gridcloud.check.quotas import Quotas
    from gridcloud.google_errors import Failure
    from gridcloud.plan import Plan

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
#: What every gcp facility uses: the cluster, its network and the nodes' account, IAM
#: bindings on the project, and Service Usage (which this check reads).
BASE_APIS = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
)


#: A Cloud Billing budget and the topic it notifies.
BUDGET_APIS = ("billingbudgets.googleapis.com", "pubsub.googleapis.com")
#: The hard cap's Cloud Function (2nd gen): built by Cloud Build into Artifact Registry, run
#: on Cloud Run, triggered through Eventarc, its source in Cloud Storage.
CAP_APIS = (
    "cloudfunctions.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "run.googleapis.com",
    "eventarc.googleapis.com",
    "storage.googleapis.com",
)


def required_apis(plan: Plan) -> tuple[str, ...]:
    """The Google APIs the Plan's resources are created through."""
    apis: tuple[str, ...] = BASE_APIS
    if plan.budget is not None and plan.budget.topic is not None:
        apis += BUDGET_APIS
        if plan.budget.cap is not None:
            apis += CAP_APIS
    return apis


def credentials() -> tuple[Credentials | None, CheckResult]:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        found, _ = google.auth.default(scopes=[CLOUD_PLATFORM])
    except DefaultCredentialsError as error:
        return None, CheckResult(
            id="credentials",
            status="fail",
            title="Google credentials",
            detail=f"no Application Default Credentials: {first_line(error)}",
            fix=LOGIN,
        )
    except (OSError, ValueError) as error:  # a folder, unreadable, not UTF-8 or not JSON
        return None, CheckResult(
            id="credentials",
            status="fail",
            title="Google credentials",
            detail=f"the credentials file cannot be read: {first_line(error)}",
            fix="point GOOGLE_APPLICATION_CREDENTIALS at a credentials JSON file (or unset it "
            "and run `gcloud auth application-default login`)",
        )
    kind = type(found).__module__.rsplit(".", 1)[-1] + "." + type(found).__name__
    account = getattr(found, "service_account_email", None) or getattr(found, "account", "")
    who = f" ({account})" if account else ""
    return found, CheckResult(
        id="credentials",
        status="ok",
        title="Google credentials",
        detail=f"Application Default Credentials: {kind}{who}",
    )


def _failure(error: BaseException, project: str) -> Failure:
    """What ``error`` is (one of :data:`failures`, so always a failure)."""
    failure = classify(error, project)
    assert failure is not None, error
    return failure


def enabled_apis(
    project: str, wanted: tuple[str, ...], creds: Credentials
) -> tuple[set[str] | None, CheckResult]:
    from google.cloud import service_usage_v1

    client = service_usage_v1.ServiceUsageClient(credentials=creds, transport="rest")
    try:
        response = client.batch_get_services(
            request={
                "parent": f"projects/{project}",
                "names": [f"projects/{project}/services/{api}" for api in wanted],
            }
        )
    except failures() as error:
        failure = _failure(error, project)
        return None, CheckResult(
            id="apis",
            status="fail",
            title="APIs enabled",
            detail=f"cannot read the project's APIs: {failure.message}",
            fix="you need serviceusage.services.list on the project (e.g. Service Usage Consumer)"
            if failure.family == "permission"
            else failure.hint,
        )
    enabled = {
        service.config.name or service.name.rsplit("/", 1)[-1]
        for service in response.services
        if service.state == service_usage_v1.State.ENABLED
    }
    missing = [api for api in wanted if api not in enabled]
    if missing:
        return enabled, CheckResult(
            id="apis",
            status="fail",
            title="APIs enabled",
            detail=f"not enabled: {', '.join(missing)}",
            fix=f"gcloud services enable {' '.join(missing)} --project {project}",
        )
    return enabled, CheckResult(
        id="apis", status="ok", title="APIs enabled", detail=", ".join(wanted)
    )


#: What creating, updating and deleting the facility's Cloud Billing budget takes on the
#: account (Billing Account Costs Manager has them): gridcloud.check.permissions' list.
BUDGET_PERMISSIONS = billing_permissions()


def billing(
    project: str, account: str | None, creds: Credentials, currency: str | None = None
) -> CheckResult:
    """The project's billing is on (else nothing can be created), it bills to the budget's
    account, the account keeps its books in the budget's ``currency`` (Cloud Billing refuses
    a budget amount in another, and the cap compares amounts in one), and you may create the
    budget there. Read through Cloud Billing's API; what it
    cannot read is a warning (not verified), not a failure."""
    from google.cloud import billing_v1

    client = billing_v1.CloudBillingClient(credentials=creds, transport="rest")
    try:
        info = client.get_project_billing_info(name=f"projects/{project}")
    except failures() as error:
        failure = _failure(error, project)
        return CheckResult(
            id="billing",
            status="warn",
            title="billing",
            detail=f"not verified: cannot read the project's billing: {failure.message}",
            fix=failure.hint
            if failure.family not in ("permission", "not-found", "refused")
            else f"gcloud services enable cloudbilling.googleapis.com --project {project}, "
            "or check in the console that billing is enabled",
        )
    if not info.billing_enabled:
        target = account or "ACCOUNT"
        return CheckResult(
            id="billing",
            status="fail",
            title="billing",
            detail=f"billing is not enabled on {project}: Google refuses to create anything",
            fix=f"gcloud billing projects link {project} --billing-account {target}",
        )
    linked = info.billing_account_name.removeprefix("billingAccounts/")
    if account is None:
        return CheckResult(
            id="billing", status="ok", title="billing", detail=f"enabled, account {linked}"
        )
    if linked != account:
        return CheckResult(
            id="billing",
            status="fail",
            title="billing",
            detail=f"the project bills to {linked}, the budget is on {account}: the budget "
            "would never see the facility's costs",
            fix=f"set budget.billingAccount: {linked}, or link the project to {account}",
        )
    if currency is not None:
        try:
            held = client.get_billing_account(name=f"billingAccounts/{account}").currency_code
        except failures():
            held = ""  # not readable: the budget's creation will say
        if held and held != currency:
            return CheckResult(
                id="billing",
                status="fail",
                title="billing",
                detail=f"billing account {account} is in {held}, the budget in {currency}: "
                "Cloud Billing refuses a budget amount in another currency than its "
                "account's, and the cap and the report compare amounts in one currency",
                fix=f"gridcloud's budgets are in {currency}: bill the project to an account "
                f"in {currency}, or leave budget.billingAccount out (no Cloud Billing budget, "
                "no cap)",
            )
    try:
        granted = set(
            client.test_iam_permissions(
                request={
                    "resource": f"billingAccounts/{account}",
                    "permissions": list(BUDGET_PERMISSIONS),
                }
            ).permissions
        )
    except failures() as error:
        failure = _failure(error, project)
        return CheckResult(
            id="billing",
            status="warn",
            title="billing",
            detail=f"not verified: cannot test your rights on {account}: {failure.message}",
            fix="ask for Billing Account Costs Manager on the billing account"
            if failure.family in ("permission", "not-found", "refused")
            else failure.hint,
        )
    missing = [p for p in BUDGET_PERMISSIONS if p not in granted]
    if missing:
        return CheckResult(
            id="billing",
            status="fail",
            title="billing",
            detail=f"you may not manage budgets on {account}: missing {', '.join(missing)}",
            fix=f"ask an admin of billing account {account} for Billing Account Costs Manager "
            "(roles/billing.costsManager)",
        )
    return CheckResult(
        id="billing",
        status="ok",
        title="billing",
        detail=f"enabled, account {account}, budgets can be created there",
    )


def _quotas(resource: Any) -> Quotas:
    return {q.metric: (int(q.limit), int(q.usage)) for q in resource.quotas}


def project_quotas(project: str, creds: Credentials) -> tuple[Quotas | None, CheckResult]:
    """The project itself (access) and its global quotas."""
    from google.api_core import exceptions
    from google.cloud import compute_v1

    try:
        found = compute_v1.ProjectsClient(credentials=creds).get(project=project)
    except exceptions.NotFound:
        return None, CheckResult(
            id="project",
            status="fail",
            title="project access",
            detail=f"project {project} does not exist",
            fix="check target.project (the project ID, not its name or number)",
        )
    except failures() as error:
        failure = _failure(error, project)
        return None, CheckResult(
            id="project",
            status="fail",
            title="project access",
            detail=f"cannot read project {project}: {failure.message}",
            fix="ask for Kubernetes Engine Admin, Compute Network Admin, Service Account "
            "Admin and User and Project IAM Admin on the project (docs/deploy.md), and make "
            "sure compute.googleapis.com is enabled"
            if failure.family == "permission"
            else failure.hint,
        )
    return _quotas(found), CheckResult(
        id="project",
        status="ok",
        title="project access",
        detail=f"{found.name} (number {found.id}) readable",
    )


def region_quotas(
    project: str, region: str, creds: Credentials
) -> tuple[Quotas | None, CheckResult | None]:
    from google.cloud import compute_v1

    try:
        found = compute_v1.RegionsClient(credentials=creds).get(project=project, region=region)
    except failures() as error:
        failure = _failure(error, project)
        return None, CheckResult(
            id="quotas",
            status="fail",
            title="quotas",
            detail=f"cannot read the quotas of {region}: {failure.message}",
            fix="check target.region, and that you may read the project's compute resources"
            if failure.family in ("permission", "not-found")
            else failure.hint,
        )
    return _quotas(found), None
