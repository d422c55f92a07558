""" "Show the command": the REST call, az command and Azure PowerShell equivalent to each operation."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from core.errors import UsageError
from core.model import (
    JobFilter,
    PointChoice,
    ProtectedItem,
    RcmReprotectToAvs,
    RcmReprotectToAzure,
    RecoveryPlan,
    ReprotectTarget,
    VaultRef,
)
from core.providers import MODERNIZED, provider_for
from core.providers.classic import failover_body as failover_body
from core.providers.classic import plan_failover_body as plan_failover_body
from core.providers.classic import reprotect_body as reprotect_body
from core.sanitize import one_line

API_VERSION = "2025-08-01"
DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
# What an ARM path keeps unquoted (RFC 3986 pchar less '%'): the ids ARM hands out print as they are.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class Equivalent:
    title: str
    rest: str
    az: str
    powershell: str


def resume_body(comment: str = "") -> dict[str, Any]:
    return {"properties": {"comments": comment}}


def _odata_time(dt: datetime) -> str:
    """.NET's round-trip format ("o"), as PowerShell writes times into the job filter."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def job_filter_text(job_filter: JobFilter | None) -> str:
    """ASR's OData job filter, as PowerShell builds it: `Prop eq 'v'` joined by ` and `, lists as `( a or b )`."""
    if job_filter is None:
        return ""
    parts: list[str] = []
    if job_filter.start_time is not None:
        parts.append(f"StartTime eq '{_odata_time(job_filter.start_time)}'")
    if job_filter.end_time is not None:
        parts.append(f"EndTime eq '{_odata_time(job_filter.end_time)}'")
    if job_filter.states:
        ors = " or ".join(f"JobStatus eq '{s}'" for s in job_filter.states)
        parts.append(f"( {ors} )" if len(job_filter.states) > 1 else ors)
    if job_filter.affected_object_types:
        parts.append(f"AffectedObjectTypes eq '{job_filter.affected_object_types}'")
    if job_filter.job_name:
        parts.append(f"JobName eq '{job_filter.job_name}'")
    return " and ".join(parts)


# PowerShell ends a single-quoted string at any of these, not only at the ASCII quote: each is doubled.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def _ps(value: str) -> str:
    return "'" + "".join(c + c if c in _PS_QUOTES else c for c in value) + "'"


def _sh(value: str) -> str:
    return shlex.quote(value)


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), sort_keys=False)


class _Builder:
    def __init__(self, vault: VaultRef, item: ProtectedItem | None, arm_endpoint: str) -> None:
        self.vault = vault
        self.item = item
        self.endpoint = arm_endpoint.rstrip("/")

    def need_item(self) -> ProtectedItem:
        if self.item is None:
            raise UsageError("This command needs a replicated item.")
        return self.item

    def url(self, path: str, query: str = "") -> str:
        extra = f"&{query}" if query else ""
        # An id or name with a space, a line break or a '?' stays one path in the printed request.
        return f"{self.endpoint}{quote(path, safe=_PATH_SAFE)}?api-version={API_VERSION}{extra}"

    def rest(self, method: str, path: str, body: dict[str, Any] | None = None, query: str = "") -> str:
        lines = [f"{method} {self.url(path, query)}", "Authorization: Bearer <token>"]
        if body is not None:
            lines += ["Content-Type: application/json", "", json.dumps(body, indent=2)]
        return "\n".join(lines)

    def az_rest(self, method: str, path: str, body: dict[str, Any] | None = None, query: str = "") -> str:
        cmd = f"az rest --method {method.lower()} --url {_sh(self.url(path, query))}"
        if body is not None:
            cmd += f" --body {_sh(_json(body))}"
        return cmd

    def az_vault(self) -> str:
        return f"-g {_sh(self.vault.resource_group)} --vault-name {_sh(self.vault.name)}"

    def az_item(self) -> str:
        item = self.need_item()
        return (
            f"{self.az_vault()} --fabric-name {_sh(item.fabric_name)} "
            f"--protection-container {_sh(item.container_name)} -n {_sh(item.name)}"
        )

    def ps_vault(self) -> list[str]:
        return [
            f"Set-AzContext -Subscription {_ps(self.vault.subscription_id)} | Out-Null",
            f"$vault = Get-AzRecoveryServicesVault -ResourceGroupName {_ps(self.vault.resource_group)} "
            f"-Name {_ps(self.vault.name)}",
            "Set-AzRecoveryServicesAsrVaultContext -Vault $vault | Out-Null",
        ]

    def ps_item(self) -> list[str]:
        item = self.need_item()
        return self.ps_vault() + [
            f"$fabric = Get-AzRecoveryServicesAsrFabric -Name {_ps(item.fabric_name)}",
            "$container = Get-AzRecoveryServicesAsrProtectionContainer -Fabric $fabric "
            f"-Name {_ps(item.container_name)}",
            f"$rpi = Get-AzRecoveryServicesAsrReplicationProtectedItem -ProtectionContainer $container "
            f"-Name {_ps(item.name)}",
        ]

    def ps_rest(self, method: str, path: str, body: dict[str, Any] | None) -> str:
        cmd = f"Invoke-AzRestMethod -Method {method} -Path {_ps(f'{path}?api-version={API_VERSION}')}"
        if body is not None:
            cmd += f" -Payload {_ps(_json(body))}"
        return cmd


def _planned_failover(b: _Builder, item: ProtectedItem, choice: PointChoice) -> Equivalent:
    """A modernized failback: az's planned-failover with the in-mage-rcm-failback details, PowerShell's planned
    failover cmdlet with its recovery tag (MODERNIZED.md §4)."""
    request = MODERNIZED.failover_request(item, choice)
    body = request.body or {}
    point_type = request.journal["recovery_point_type"]
    path = f"{item.id}/plannedFailover"
    tag = "RecoveryTagApplicationConsistent" if point_type == "ApplicationConsistent" else "RecoveryTagCrashConsistent"
    az_native = (
        f"az site-recovery protected-item planned-failover {b.az_item()} "
        f"--provider-details {_sh('{in-mage-rcm-failback:{recovery-point-type:' + point_type + '}}')}"
    )
    return Equivalent(
        title=f"Fail back {item.friendly_name} from Azure to AVS (planned failover, {point_type})",
        rest=b.rest("POST", path, body),
        az="\n".join([az_native, b.az_rest("POST", path, body)]),
        powershell="\n".join(
            b.ps_item()
            + [
                "$job = Start-AzRecoveryServicesAsrPlannedFailoverJob -ReplicationProtectedItem $rpi "
                f"-Direction RecoveryToPrimary -RecoveryTag {tag}",
                "Get-AzRecoveryServicesAsrJob -Job $job",
            ]
        ),
    )


def _bodiless(b: _Builder, title: str, segment: str, az_verb: str, cmdlet: str) -> Equivalent:
    """An item action without a body (commit, cancel): POST {item}/{segment}, az's verb, the job cmdlet."""
    item = b.need_item()
    path = f"{item.id}/{segment}"
    return Equivalent(
        title=title,
        rest=b.rest("POST", path),
        az="\n".join([f"az site-recovery protected-item {az_verb} {b.az_item()}", b.az_rest("POST", path)]),
        powershell="\n".join(
            b.ps_item() + [f"$job = {cmdlet} -ReplicationProtectedItem $rpi", "Get-AzRecoveryServicesAsrJob -Job $job"]
        ),
    )


def _cancel_failover(b: _Builder, params: dict[str, Any]) -> Equivalent:
    name = b.need_item().friendly_name
    return _bodiless(
        b,
        f"Cancel the planned failover of {name}",
        "failoverCancel",
        "failover-cancel",
        "Start-AzRecoveryServicesAsrCancelFailoverJob",
    )


def _failover(b: _Builder, params: dict[str, Any]) -> Equivalent:
    item = b.need_item()
    choice = params.get("choice", PointChoice.LATEST)
    if isinstance(choice, str):
        choice = PointChoice(choice)
    if provider_for(item) is MODERNIZED:
        return _planned_failover(b, item, choice)
    point_id = str(params.get("recovery_point_id", "") or "")
    body = failover_body(choice, point_id)
    path = f"{item.id}/unplannedFailover"
    inmage = f"recovery-point-type:{choice.asr_type}"
    if choice is PointChoice.CUSTOM:
        inmage += f',recovery-point-id:"{point_id}"'
    az_native = (
        f"az site-recovery protected-item unplanned-failover {b.az_item()} "
        "--failover-direction PrimaryToRecovery --source-site-operations Required "
        f"--provider-details {_sh('{in-mage:{' + inmage + '}}')}"
    )
    if choice is PointChoice.CUSTOM:
        ps_tail = [
            "# The cmdlet offers only the latest points for this provider; a chosen point goes through REST:",
            b.ps_rest("POST", path, body),
        ]
    else:
        tag = "LatestAvailableApplicationConsistent" if choice is PointChoice.LATEST_APP_CONSISTENT else "Latest"
        ps_tail = [
            "$job = Start-AzRecoveryServicesAsrUnplannedFailoverJob -ReplicationProtectedItem $rpi "
            f"-Direction PrimaryToRecovery -RecoveryTag {tag} -PerformSourceSideAction",
            "Get-AzRecoveryServicesAsrJob -Job $job",
        ]
    return Equivalent(
        title=f"Fail back {item.friendly_name} from Azure to AVS ({choice.asr_type})",
        rest=b.rest("POST", path, body),
        az="\n".join([az_native, b.az_rest("POST", path, body)]),
        powershell="\n".join(b.ps_item() + ps_tail),
    )


def _commit(b: _Builder, params: dict[str, Any]) -> Equivalent:
    name = b.need_item().friendly_name
    return _bodiless(
        b,
        f"Commit the failover of {name}",
        "failoverCommit",
        "failover-commit",
        "Start-AzRecoveryServicesAsrCommitFailoverJob",
    )


def _rcm_reprotect(b: _Builder, item: ProtectedItem, target: RcmReprotectToAvs | RcmReprotectToAzure) -> Equivalent:
    """A modernized reprotect: az with the in-mage-rcm (to AVS) or in-mage-rcm-failback (to Azure) details; REST for
    PowerShell, whose cmdlet needs a run-as display name and sends a direction the recorded request did not
    (MODERNIZED.md §3, §7)."""
    body = MODERNIZED.reprotect_request(item, target).body or {}
    path = f"{item.id}/reProtect"
    details = body["properties"]["providerSpecificDetails"]
    key = "in-mage-rcm" if isinstance(target, RcmReprotectToAvs) else "in-mage-rcm-failback"
    names = {
        "reprotectAgentId": "reprotect-agent-id",
        "datastoreName": "datastore-name",
        "logStorageAccountId": "log-storage-account-id",
        "policyId": "policy-id",
        "processServerId": "process-server-id",
        "runAsAccountId": "run-as-account-id",
    }
    fields = ",".join(f'{names[k]}:"{v}"' for k, v in details.items() if k in names)
    direction = " --failover-direction RecoveryToPrimary" if isinstance(target, RcmReprotectToAvs) else ""
    towards = "AVS" if isinstance(target, RcmReprotectToAvs) else "Azure"
    az_native = (
        f"az site-recovery protected-item reprotect {b.az_item()}{direction} "
        f"--provider-details {_sh('{' + key + ':{' + fields + '}}')}"
    )
    return Equivalent(
        title=f"Reprotect {item.friendly_name} to {towards} through the replication appliance",
        rest=b.rest("POST", path, body),
        az="\n".join([az_native, b.az_rest("POST", path, body)]),
        powershell="\n".join(b.ps_vault() + [b.ps_rest("POST", path, body)]),
    )


def _reprotect(b: _Builder, params: dict[str, Any]) -> Equivalent:
    item = b.need_item()
    target = params.get("target")
    if isinstance(target, RcmReprotectToAvs | RcmReprotectToAzure):
        return _rcm_reprotect(b, item, target)
    if not isinstance(target, ReprotectTarget):
        raise UsageError("Reprotect needs the process server and master target.")
    body = reprotect_body(target)
    path = f"{item.id}/reProtect"
    fields = [f'process-server-id:"{target.process_server_id}"', f'master-target-id:"{target.master_target_id}"']
    if target.run_as_account_id:
        fields.append(f'run-as-account-id:"{target.run_as_account_id}"')
    if target.policy_id:
        fields.append(f'policy-id:"{target.policy_id}"')
    if target.storage_account_id:
        fields.append(f'storage-account-id:"{target.storage_account_id}"')
    if target.log_storage_account_id:
        fields.append(f'log-storage-account-id:"{target.log_storage_account_id}"')
    az_native = (
        f"az site-recovery protected-item reprotect {b.az_item()} --failover-direction RecoveryToPrimary "
        f"--provider-details {_sh('{in-mage-azure-v2:{' + ','.join(fields) + '}}')}"
    )
    ps_name = str(params.get("process_server_name", "") or "")
    ps_match = (
        f"Where-Object FriendlyName -eq {_ps(ps_name)}"
        if ps_name
        else f"Where-Object Id -eq {_ps(target.process_server_id)}"
    )
    lines = b.ps_item() + [
        "# The process server, master target and run-as account come from the VMware fabric",
        f"$ps = $fabric.FabricSpecificDetails.ProcessServers | {ps_match}",
        f"$mt = $fabric.FabricSpecificDetails.MasterTargetServers | Where-Object Id -eq {_ps(target.master_target_id)}",
        "$account = $fabric.FabricSpecificDetails.RunAsAccounts | "
        f"Where-Object AccountId -eq {_ps(target.run_as_account_id or '<run-as account id>')}",
        "$mapping = Get-AzRecoveryServicesAsrProtectionContainerMapping -ProtectionContainer $container | "
        f"Where-Object PolicyId -eq {_ps(target.policy_id or '<replication policy id>')}",
        "$job = Update-AzRecoveryServicesAsrProtectionDirection -VMwareToAzure -ReplicationProtectedItem $rpi "
        "-Direction RecoveryToPrimary -ProcessServer $ps -MasterTarget $mt -Account $account "
        "-ProtectionContainerMapping $mapping",
        "Get-AzRecoveryServicesAsrJob -Job $job",
    ]
    return Equivalent(
        title=f"Reprotect {item.friendly_name} from AVS to Azure",
        rest=b.rest("POST", path, body),
        az="\n".join([az_native, b.az_rest("POST", path, body)]),
        powershell="\n".join(lines),
    )


def _plan_of(params: dict[str, Any]) -> RecoveryPlan:
    plan = params.get("plan")
    if not isinstance(plan, RecoveryPlan):
        raise UsageError("This command needs a recovery plan.")
    return plan


def _ps_plan(b: _Builder, plan: RecoveryPlan) -> list[str]:
    return b.ps_vault() + [f"$plan = Get-AzRecoveryServicesAsrRecoveryPlan -Name {_ps(plan.name)}"]


def _plan_planned_failover(b: _Builder, plan: RecoveryPlan, choice: PointChoice) -> Equivalent:
    """A modernized plan's failback (MODERNIZED.md §9): REST only in az; PowerShell's recovery-plan form of the
    planned failover takes no recovery tag, so it can only send crash-consistent."""
    from core.providers.modernized import POINT_TYPES, plan_planned_failover_body

    body = plan_planned_failover_body(choice)
    point_type = POINT_TYPES[choice]
    path = f"{b.vault.arm_id}/replicationRecoveryPlans/{plan.name}/plannedFailover"
    if choice is PointChoice.LATEST:
        ps = [
            "$job = Start-AzRecoveryServicesAsrPlannedFailoverJob -RecoveryPlan $plan -Direction RecoveryToPrimary",
            "Get-AzRecoveryServicesAsrJob -Job $job",
        ]
    else:
        ps = [
            "# Start-AzRecoveryServicesAsrPlannedFailoverJob -RecoveryPlan takes no recovery tag: it sends",
            "# CrashConsistent. An app-consistent plan failback needs the REST call (Invoke-AzRestMethod):",
            f"$answer = {b.ps_rest('POST', path, body)}",
            "$answer.Headers  # Azure-AsyncOperation names the job: Get-AzRecoveryServicesAsrJob -Name <it>",
        ]
    return Equivalent(
        title=f"Fail back the recovery plan {plan.friendly_name or plan.name} (planned failover, {point_type})",
        rest=b.rest("POST", path, body),
        az="\n".join(
            ["# the site-recovery extension has no recovery-plan failover command", b.az_rest("POST", path, body)]
        ),
        powershell="\n".join(_ps_plan(b, plan) + ps),
    )


def _plan_failover(b: _Builder, params: dict[str, Any]) -> Equivalent:
    plan = _plan_of(params)
    choice = params.get("choice", PointChoice.LATEST)
    if isinstance(choice, str):
        choice = PointChoice(choice)
    if params.get("modernized"):
        return _plan_planned_failover(b, plan, choice)
    body = plan_failover_body(choice)
    path = f"{b.vault.arm_id}/replicationRecoveryPlans/{plan.name}/unplannedFailover"
    tag = "LatestAvailableApplicationConsistent" if choice is PointChoice.LATEST_APP_CONSISTENT else "Latest"
    return Equivalent(
        title=f"Fail back the recovery plan {plan.friendly_name or plan.name} ({choice.asr_type})",
        rest=b.rest("POST", path, body),
        az="\n".join(
            ["# the site-recovery extension has no recovery-plan failover command", b.az_rest("POST", path, body)]
        ),
        powershell="\n".join(
            _ps_plan(b, plan)
            + [
                "$job = Start-AzRecoveryServicesAsrUnplannedFailoverJob -RecoveryPlan $plan "
                f"-Direction RecoveryToPrimary -RecoveryTag {tag} -PerformSourceSideAction",
                "Get-AzRecoveryServicesAsrJob -Job $job",
            ]
        ),
    )


def _plan_bodiless(b: _Builder, plan: RecoveryPlan, title: str, segment: str, what: str, cmdlet: str) -> Equivalent:
    """A plan action without a body (commit, cancel): POST {plan}/{segment}; az has no recovery-plan command."""
    path = f"{b.vault.arm_id}/replicationRecoveryPlans/{plan.name}/{segment}"
    return Equivalent(
        title=title,
        rest=b.rest("POST", path),
        az="\n".join([f"# the site-recovery extension has no recovery-plan {what} command", b.az_rest("POST", path)]),
        powershell="\n".join(
            _ps_plan(b, plan) + [f"$job = {cmdlet} -RecoveryPlan $plan", "Get-AzRecoveryServicesAsrJob -Job $job"]
        ),
    )


def _plan_commit(b: _Builder, params: dict[str, Any]) -> Equivalent:
    plan = _plan_of(params)
    title = f"Commit the failover of the recovery plan {plan.friendly_name or plan.name}"
    return _plan_bodiless(b, plan, title, "failoverCommit", "commit", "Start-AzRecoveryServicesAsrCommitFailoverJob")


def _plan_cancel(b: _Builder, params: dict[str, Any]) -> Equivalent:
    plan = _plan_of(params)
    title = f"Cancel the planned failover of the recovery plan {plan.friendly_name or plan.name}"
    return _plan_bodiless(b, plan, title, "failoverCancel", "cancel", "Start-AzRecoveryServicesAsrCancelFailoverJob")


def _job_action(action: str) -> Any:
    cmdlets = {"cancel": "Stop-AzRecoveryServicesAsrJob", "restart": "Restart-AzRecoveryServicesAsrJob"}

    def build(b: _Builder, params: dict[str, Any]) -> Equivalent:
        name = str(params.get("job_name", "") or "")
        if not name:
            raise UsageError("This command needs a job name.")
        path = f"{b.vault.arm_id}/replicationJobs/{name}/{action}"
        body = resume_body(str(params.get("comment", "") or "")) if action == "resume" else None
        if action == "resume":
            comment = str(params.get("comment", "") or "")
            ps_action = f"Resume-AzRecoveryServicesAsrJob -Job $job -Comment {_ps(comment)}"
            az_native = f"az site-recovery job resume {b.az_vault()} -n {_sh(name)} --comments {_sh(comment)}"
        else:
            ps_action = f"{cmdlets[action]} -Job $job"
            az_native = f"az site-recovery job {action} {b.az_vault()} -n {_sh(name)}"
        return Equivalent(
            title=f"{action.capitalize()} job {name}",
            rest=b.rest("POST", path, body),
            az="\n".join([az_native, b.az_rest("POST", path, body)]),
            powershell="\n".join(b.ps_vault() + [f"$job = Get-AzRecoveryServicesAsrJob -Name {_ps(name)}", ps_action]),
        )

    return build


def _list_items(b: _Builder, params: dict[str, Any]) -> Equivalent:
    path = f"{b.vault.arm_id}/replicationProtectedItems"
    fabric = b.item.fabric_name if b.item else "<fabric>"
    container = b.item.container_name if b.item else "<container>"
    return Equivalent(
        title="List the replicated items of the vault",
        rest=b.rest("GET", path),
        az="\n".join(
            [
                f"az site-recovery protected-item list {b.az_vault()} --fabric-name {_sh(fabric)} "
                f"--protection-container {_sh(container)}",
                b.az_rest("GET", path),
            ]
        ),
        powershell="\n".join(
            b.ps_vault()
            + [
                "Get-AzRecoveryServicesAsrFabric | ForEach-Object { Get-AzRecoveryServicesAsrProtectionContainer "
                "-Fabric $_ } | ForEach-Object { Get-AzRecoveryServicesAsrReplicationProtectedItem "
                "-ProtectionContainer $_ }",
            ]
        ),
    )


def _list_points(b: _Builder, params: dict[str, Any]) -> Equivalent:
    item = b.need_item()
    path = f"{item.id}/recoveryPoints"
    return Equivalent(
        title=f"List the recovery points of {item.friendly_name}",
        rest=b.rest("GET", path),
        az="\n".join(
            [
                f"az site-recovery protected-item recovery-point list {b.az_vault()} --fabric-name "
                f"{_sh(item.fabric_name)} --protection-container {_sh(item.container_name)} "
                f"--replicated-protected-item-name {_sh(item.name)}",
                b.az_rest("GET", path),
            ]
        ),
        powershell="\n".join(b.ps_item() + ["Get-AzRecoveryServicesAsrRecoveryPoint -ReplicationProtectedItem $rpi"]),
    )


def _list_jobs(b: _Builder, params: dict[str, Any]) -> Equivalent:
    job_filter = params.get("job_filter")
    if job_filter is None and params.get("states"):
        job_filter = JobFilter(states=tuple(params["states"]))
    text = job_filter_text(job_filter if isinstance(job_filter, JobFilter) else None)
    query = f"$filter={quote(text)}" if text else ""
    path = f"{b.vault.arm_id}/replicationJobs"
    az_native = f"az site-recovery job list {b.az_vault()}"
    if text:
        az_native += f" --filter {_sh(text)}"
    ps = "Get-AzRecoveryServicesAsrJob"
    if isinstance(job_filter, JobFilter):
        if len(job_filter.states) == 1:
            ps += f" -State {job_filter.states[0]}"
        if job_filter.start_time is not None:
            ps += f" -StartTime {_ps(job_filter.start_time.isoformat())}"
        if job_filter.end_time is not None:
            ps += f" -EndTime {_ps(job_filter.end_time.isoformat())}"
    return Equivalent(
        title="List the vault's Site Recovery jobs",
        rest=b.rest("GET", path, query=query),
        az="\n".join([az_native, b.az_rest("GET", path, query=query)]),
        powershell="\n".join(b.ps_vault() + [ps]),
    )


def _show_job(b: _Builder, params: dict[str, Any]) -> Equivalent:
    name = str(params.get("job_name", "") or "")
    if not name:
        raise UsageError("This command needs a job name.")
    path = f"{b.vault.arm_id}/replicationJobs/{name}"
    return Equivalent(
        title=f"Show job {name}",
        rest=b.rest("GET", path),
        az="\n".join([f"az site-recovery job show {b.az_vault()} -n {_sh(name)}", b.az_rest("GET", path)]),
        powershell="\n".join(b.ps_vault() + [f"Get-AzRecoveryServicesAsrJob -Name {_ps(name)}"]),
    )


_OPERATIONS = {
    "failover": _failover,
    "commit": _commit,
    "cancel-failover": _cancel_failover,
    "reprotect": _reprotect,
    "job-cancel": _job_action("cancel"),
    "job-restart": _job_action("restart"),
    "job-resume": _job_action("resume"),
    "list-items": _list_items,
    "list-jobs": _list_jobs,
    "list-points": _list_points,
    "job": _show_job,
    "plan-failover": _plan_failover,
    "plan-commit": _plan_commit,
    "plan-cancel": _plan_cancel,
}
_ALIASES = {
    "cancel": "job-cancel",
    "restart": "job-restart",
    "resume": "job-resume",
    "items": "list-items",
    "jobs": "list-jobs",
    "points": "list-points",
}
OPERATIONS = tuple(_OPERATIONS)


def equivalents(op: str, *, vault: VaultRef, item: ProtectedItem | None = None, **params: Any) -> Equivalent:
    """The REST / az / PowerShell text for `op` (one of OPERATIONS); `arm_endpoint=` targets a sovereign cloud."""
    key = _ALIASES.get(op, op)
    build = _OPERATIONS.get(key)
    if build is None:
        raise UsageError(f"No command equivalent for {op!r}; one of: {', '.join(OPERATIONS)}.")
    endpoint = str(params.pop("arm_endpoint", "") or DEFAULT_ARM_ENDPOINT)
    result: Equivalent = build(_Builder(vault, item, endpoint), params)
    # The title names the item as vCenter does; it is printed after a '#', where a line break would end the
    # comment and run whatever follows when the block is pasted into a shell.
    return replace(result, title=one_line(result.title))
