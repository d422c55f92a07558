"""`reprotect`: protect a committed item again (AVS to Azure), riding out the agent-registration window."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace

from cli.context import Context
from cli.options import Commands, item_argument
from cli.output import all_items, confirm, guard_read_only, refuse, say, say_whole
from cli.sending import finish, is_busy, report_start, sending_options, show_command
from core.errors import NotAllowedNow, NotFound, UsageError
from core.failback import (
    AGENT_REGISTRATION_WINDOW,
    can_reprotect,
    derive_stage,
    is_agent_registration_failure,
    resolve_item,
)
from core.model import (
    AnyReprotectTarget,
    Appliance,
    Fabric,
    ProcessServer,
    ProtectedItem,
    ReprotectTarget,
    Stage,
)
from core.operations import Started
from core.providers import provider_for, same_stack
from core.providers.modernized import (
    appliances_of,
    failback_policy,
    find_appliance,
    to_avs_target,
)
from core.providers.modernized_preflight import appliance_warnings

AGENT_RETRY_SECONDS = 60.0  # backend-clock seconds between reprotect attempts inside the agent window


def _find_process_server(fabrics: Sequence[Fabric], name: str) -> tuple[Fabric, ProcessServer]:
    wanted = name.strip().lower()
    for fabric in fabrics:
        for ps in fabric.process_servers:
            if wanted in (ps.friendly_name.lower(), ps.id.lower(), ps.ip_address.lower()):
                return fabric, ps
    known = sorted(f"{ps.friendly_name} ({ps.health or 'health unknown'})" for f in fabrics for ps in f.process_servers)
    raise NotFound(
        f"No process server named {name!r}. Known: {', '.join(known) or 'none'}.",
        hint="Pass --process-server with one of the names listed.",
    )


def reprotect_target(
    ctx: Context, current_targets: Sequence[str], what: str, stack: ProtectedItem | None = None
) -> tuple[ReprotectTarget, ProcessServer, str]:
    """The process server, master target and run-as account named by the options, for `what` (an item or a
    plan); `current_targets` are the master target ids the VMs use now. The replication policy stays empty
    unless --policy names one: the backend then picks the vault's AVS → Azure policy."""
    args = ctx.args
    fabrics = ctx.backend.list_fabrics()
    if stack is not None:  # only the servers of the VM's own stack (a classic VM: no replication appliance)
        fabrics = same_stack(stack, fabrics)
    fabric, ps = _find_process_server(fabrics, args.process_server)
    if fabric.appliances:
        # a replication appliance (modernized): no master target; the backend adds the vault's forward policy
        policy = getattr(args, "policy", None) or ""
        return ReprotectTarget(process_server_id=ps.id, master_target_id="", policy_id=policy), ps, ""
    master_target = getattr(args, "master_target", None)
    targets = fabric.master_targets
    known = {m.id: m for m in targets}
    current = list(dict.fromkeys(t for t in current_targets if t in known))
    if master_target:
        chosen = [m for m in targets if master_target.lower() in (m.name.lower(), m.id.lower())]
        if not chosen:
            names = ", ".join(m.name for m in targets) or "none"
            raise NotFound(f"No master target named {master_target!r}. Known: {names}.")
        mt = chosen[0]
    elif len(current) > 1:
        # one master target for every VM keeps each replication group on one pair, as ASR requires
        names = ", ".join(known[t].name for t in current)
        raise UsageError(
            f"The VMs of {what} use different master targets ({names}).",
            hint="Name the one to use for all of them with --master-target.",
        )
    elif current:
        mt = known[current[0]]
    elif targets:
        mt = targets[0]
    else:
        raise NotAllowedNow(
            f"The fabric {fabric.friendly_name} lists no master target server.",
            hint="Reprotect needs a master target; check the configuration server's registration.",
        )
    run_as = getattr(args, "run_as_account", None) or (fabric.run_as_accounts[0].id if fabric.run_as_accounts else "")
    policy = getattr(args, "policy", None) or ""
    target = ReprotectTarget(
        process_server_id=ps.id, master_target_id=mt.id, run_as_account_id=run_as, policy_id=policy
    )
    return target, ps, mt.name


def with_policy_shown(ctx: Context, target: ReprotectTarget) -> ReprotectTarget:
    """For --show-command: the policy the backend would fill in when sending, so the printed request is whole."""
    forward = getattr(ctx.backend, "forward_policy_id", None)
    if target.policy_id or forward is None:
        return target
    try:
        return replace(target, policy_id=str(forward()))
    except UsageError:  # none or several: the equivalents then show a placeholder to fill in
        return target


def _modernized_target(ctx: Context, item: ProtectedItem) -> tuple[AnyReprotectTarget, str, list[str]]:
    """A modernized VM's reprotect: through the replication appliance named by --appliance, from the fabric's
    appliance lists; to AVS with a datastore the appliance reaches, to Azure with the vault's forward policy.
    (target, the appliance's name, what the confirmation says)."""
    args, backend = ctx.args, ctx.backend
    fabrics = backend.list_fabrics()
    if not appliances_of(fabrics):
        # the fabric lists no appliance (an older answer, or a scenario without one): its process servers stand in
        chosen, ps, _ = reprotect_target_servers_only(ctx)
        appliance_name, health, warnings = ps.friendly_name, ps.health or "unknown", []
        agent: Appliance | str = ps.id
    else:
        appliance = find_appliance(fabrics, args.process_server)
        agent, appliance_name, health = appliance, appliance.name, appliance.health or "not reported"
        warnings = appliance_warnings(appliance, backend.now())
    policies = getattr(backend, "list_policies", None)
    known = policies() if policies is not None else []
    if derive_stage(item) is Stage.IN_AZURE:
        fresh = backend.get_item(item.id)  # disks (and their log storage account) come only on a GET
        policy = failback_policy(known, args.failback_policy or "")
        to_avs = to_avs_target(fresh, agent, args.datastore or "", args.log_storage_account or "", policy)
        target: AnyReprotectTarget = to_avs
        summary = [
            f"Reprotect {item.friendly_name}: replicate from Azure to AVS through the appliance {appliance_name} "
            f"(health {health}), datastore {to_avs.datastore_name}.",
            "ASR reports no free space for modernized datastores: check in vCenter that it has room for the VM.",
            "Initial replication to AVS follows; the VM can fail back once it ends.",
        ]
    else:
        agent_id = agent.id if isinstance(agent, Appliance) else agent
        base = ReprotectTarget(process_server_id=agent_id, master_target_id="", policy_id=args.policy or "")
        target = provider_for(item).complete_target(item, base, known)
        summary = [
            f"Reprotect {item.friendly_name}: replicate from AVS back to Azure through the appliance "
            f"{appliance_name} (health {health}).",
            "Initial replication to Azure follows; the VM is protected again when it ends.",
        ]
    return target, appliance_name, summary + warnings


def reprotect_target_servers_only(ctx: Context) -> tuple[ReprotectTarget, ProcessServer, str]:
    fabric, ps = _find_process_server(ctx.backend.list_fabrics(), ctx.args.process_server)
    return ReprotectTarget(process_server_id=ps.id, master_target_id=""), ps, fabric.friendly_name


def cmd_reprotect(ctx: Context) -> int:
    args, backend = ctx.args, ctx.backend
    items = all_items(backend)
    item = resolve_item(items, args.item)
    if not is_busy(item):
        refuse(can_reprotect(item))
    guard_read_only(ctx, "the reprotect")
    target: AnyReprotectTarget
    if provider_for(item).key == "modernized":
        target, server_name, summary = _modernized_target(ctx, item)
    else:
        chosen, ps, _ = reprotect_target(ctx, [item.master_target_id], item.friendly_name, item)
        target, server_name = chosen, ps.friendly_name
        health = ps.health or "unknown"
        summary = [
            f"Reprotect {item.friendly_name}: replicate from AVS back to Azure (RecoveryToPrimary).",
            f"Process server: {ps.friendly_name} (health {health}).",
            "Initial replication to Azure follows; the VM is protected again when it ends.",
        ]
        if not ps.is_healthy:
            summary.append(f"Warning: the process server reports health {health!r}.")
        if getattr(args, "show_command", False):
            target = with_policy_shown(ctx, chosen)
    if show_command(ctx, "reprotect", item, target=target, process_server_name=server_name):
        return 0
    confirm(ctx, summary, "yes", "Reprotect", "yes" if args.yes else None)
    started = ctx.operations().reprotect(item, target)
    report_start(ctx, started, f"Reprotect of {item.friendly_name}")
    if not getattr(args, "wait", False):
        return finish(ctx, started)
    return _reprotect_wait(ctx, item, target, started)


def _reprotect_wait(ctx: Context, item: ProtectedItem, target: AnyReprotectTarget, started: Started) -> int:
    """Wait; while the mobility agent is still registering (up to 15 min after boot), retry on a timer."""
    from core.errors import JobFailed

    io, backend = ctx.io, ctx.backend
    first_try = backend.now()
    attempts = 1
    while True:
        try:
            return finish(ctx, started)
        except JobFailed:
            job = backend.get_job(started.handle.job_name)
            elapsed = (backend.now() - first_try).total_seconds()
            retry = (
                is_agent_registration_failure(job)
                and not getattr(ctx.args, "no_retry", False)
                and elapsed + AGENT_RETRY_SECONDS < AGENT_REGISTRATION_WINDOW.total_seconds()
            )
            if not retry:
                if is_agent_registration_failure(job):
                    say(
                        io.err,
                        "The mobility agent on the AVS VM has not registered yet. ASR needs up to "
                        f"{int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)} minutes after the VM boots; "
                        "retry the reprotect in a few minutes.",
                    )
                raise
            if not io.json:
                say(
                    io.err,
                    f"Attempt {attempts}: the mobility agent has not registered yet (normal for up to "
                    f"{int(AGENT_REGISTRATION_WINDOW.total_seconds() // 60)} minutes after the AVS VM boots). "
                    f"Retrying in {AGENT_RETRY_SECONDS:.0f} s.",
                )
            _sleep(ctx, AGENT_RETRY_SECONDS)
            # Operations reads the item afresh, and follows a job someone else started meanwhile
            started = ctx.operations().reprotect(item, target)
            attempts += 1
            if io.json:
                continue
            if started.attached:
                say_whole(io.out, f"Attached, nothing sent: {started.note}")
            else:
                io.out(f"Reprotect retried: job {started.handle.job_name}")


def _sleep(ctx: Context, seconds: float) -> None:
    clock = ctx.clock or getattr(ctx.backend, "clock", None)
    if clock is not None:
        clock.sleep(seconds)
    else:
        import time

        time.sleep(seconds)


def reprotect_target_options(p: argparse.ArgumentParser, master_help: str) -> None:
    """Where a reprotect sends data from: the process server, master target, run-as account and policy."""
    p.add_argument(
        "--process-server",
        "--appliance",
        dest="process_server",
        required=True,
        metavar="NAME",
        help="process server that sends data to Azure (a modernized VM: the replication appliance)",
    )
    p.add_argument("--master-target", metavar="NAME", help=master_help)
    p.add_argument("--run-as-account", metavar="ID", help="run-as account id (default: the fabric's first)")
    p.add_argument("--policy", metavar="ARM_ID", help="replication policy for AVS → Azure (default: the vault's)")


def register(commands: Commands) -> None:
    p = commands.add(
        "reprotect",
        "Fail back one VM",
        "protect a committed item again, from AVS to Azure",
        description="Replicate a committed VM from AVS to Azure again through a process server (a modernized "
        "VM: the replication appliance). With --wait, failures while the VM's agent registers (about 15 "
        "minutes after the failback) are retried.",
        examples=(
            (
                "reprotect through a process server and ride out the agent window",
                "avs-failback reprotect build-01 --process-server ps-azure-weu-01 --yes --wait",
            ),
            (
                "print the request; send nothing",
                "avs-failback reprotect wiki-01 --process-server ps-azure-weu-01 --show-command",
            ),
        ),
    )
    item_argument(p)
    reprotect_target_options(p, master_help="master target (default: the item's, or the first)")
    p.add_argument("--datastore", metavar="NAME", help="a modernized VM in Azure: the AVS datastore (default: its own)")
    p.add_argument(
        "--log-storage-account", metavar="ARM_ID", help="a modernized VM in Azure: storage account for the logs"
    )
    p.add_argument("--failback-policy", metavar="ARM_ID", help="a modernized VM in Azure: the failback policy")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.add_argument("--no-retry", action="store_true", help="with --wait: do not retry agent-registration failures")
    sending_options(p, wait_help="follow the job; retry while the agent registers")
    p.set_defaults(run=cmd_reprotect)
