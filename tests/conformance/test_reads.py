"""Every key the mapping reads is a key of the SDK's model for that place in the document (or on the sourced
allow-list), and each one is written down in the field audit next to the mapping (core/azure/FIELDS.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.recoveryservicessiterecovery import models as sdk

from core.azure import mapping
from core.emulator import load_scenario
from tests.conformance import tour
from tests.conformance.reads import Read, Reads
from tests.conformance.witness import RECORDED_EXTRAS, response_model

AUDIT = Path(mapping.__file__).with_name("FIELDS.md")
MAPPERS: dict[type, Any] = {
    sdk.ReplicationProtectedItem: mapping.protected_item,
    sdk.RecoveryPoint: mapping.recovery_point,
    sdk.Fabric: mapping.fabric,
    sdk.RecoveryPlan: mapping.recovery_plan,
    sdk.Job: mapping.job,
}


def _reads(name: str) -> Reads:
    """The mapping over every answer of a whole failback on `name`, each document wrapped to note its reads."""
    r = tour.rig(load_scenario(name))
    tour.read_everything(r)
    tour.whole_failback(r)
    tour.plan_failback(r)
    reads = Reads()
    for e in r.witness.take():
        if e.status >= 400:
            mapping.arm_error_details(reads.wrap(e.response, sdk.ErrorResponse))
            continue
        found = response_model(e)
        if found is None or e.response is None or found[1] not in MAPPERS:
            continue
        kind, model = found
        for doc in e.response["value"] if kind == "page" else [e.response]:
            MAPPERS[model](reads.wrap(doc, model))
    return reads


@pytest.fixture(scope="module")
def demo_reads() -> Reads:
    return _reads("demo")


def test_the_mapping_reads_only_what_the_sdk_models_have(demo_reads: Reads) -> None:
    allowed = {(a.model, a.key) for a in RECORDED_EXTRAS}
    strays = sorted(f"{r.model}.{r.key}" for r in demo_reads.unknown if (r.model, r.key) not in allowed)
    assert not strays, f"read although no SDK model has them: {strays}"
    # The walk reached the three provider classes and the job, plan and fabric shapes.
    models = {r.model for r in demo_reads.seen}
    assert {"InMageReplicationDetails", "InMageAzureV2ReplicationDetails", "InMageRcmFailbackReplicationDetails"} <= (
        models
    )
    assert {"DataStore", "RetentionVolume", "MasterTargetServer", "ProcessServer", "ASRTask", "JobEntity"} <= models


def _audited() -> set[tuple[str, str]]:
    """(SDK class, JSON key) of each row of the audit's tables: `| Class | `key` | …`."""
    rows = re.findall(r"^\| `?(\w+)`? \| `([\w.\[\]]+)` \|", AUDIT.read_text(encoding="utf-8"), re.MULTILINE)
    return {(model, key) for model, key in rows}


def test_every_field_read_is_in_the_audit(demo_reads: Reads) -> None:
    audited = _audited()
    missing = sorted(f"{r.model} {r.key}" for r in demo_reads.seen if (r.model, r.key) not in audited)
    assert not missing, f"read by the mapping, absent from {AUDIT.name}: {missing}"


def test_the_audit_names_only_fields_of_the_sdk() -> None:
    from tests.conformance.walker import fields

    wrong = []
    for model, key in _audited():
        cls = getattr(sdk, model, None)
        allowed = (model, key) in {(a.model, a.key) for a in RECORDED_EXTRAS}
        if cls is None or (key not in fields(cls) and not allowed):
            wrong.append(f"{model}.{key}")
    assert not wrong, f"{AUDIT.name} names fields no SDK model has: {sorted(wrong)}"


def test_a_stray_read_is_caught() -> None:
    """The tracer itself: a key the class lacks is noted as unknown even when the document does not carry it."""
    reads = Reads()
    doc = reads.wrap({"properties": {"customDetails": {"instanceType": "VMware"}}}, sdk.Fabric)
    doc["properties"]["customDetails"].get("processServers")
    doc["properties"]["customDetails"].get("health")
    assert reads.unknown == {Read("VMwareDetails", "health", False)}
