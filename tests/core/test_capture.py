"""Capturing a vault as a scenario: it plays back as the same vault, masked it names nothing of the original, and
capturing sends nothing but reads."""

from __future__ import annotations

import json
import stat
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from core.bootstrap import build_backend
from core.capture import Masker, capture
from core.clock import ManualClock
from core.config import Settings
from core.emulator import ArmEmulator, emulate, load_scenario
from core.failback import derive_stage
from core.training import check_file

BASE = "https://emulator.avs-failback.invalid"


def vault(scenario: str) -> tuple[Any, ArmEmulator]:
    emulator = emulate(load_scenario(scenario), ManualClock(), base_url=BASE)
    return build_backend(Settings(demo=True), emulator=emulator), emulator


def picture(backend: Any) -> dict[str, Any]:
    """What playing back must keep: each VM's stage and health, the plans and who is in them."""
    items = [i for page in backend.iter_item_pages() for i in page]
    by_id = {i.id.lower(): i.friendly_name for i in items}
    return {
        "stages": {i.friendly_name: derive_stage(i).key for i in items},
        "health": {i.friendly_name: i.replication_health for i in items},
        "groups": {i.friendly_name: i.multi_vm_group_name for i in items},
        "plans": {
            p.name: sorted(by_id[m.lower()] for m in p.item_ids if m.lower() in by_id) for p in backend.list_plans()
        },
    }


def written(doc: dict[str, Any], tmp_path: Path, name: str = "captured.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("scenario", ["demo", "small", "modernized", "train-consistency-group"])
def test_a_captured_vault_plays_back_with_the_same_stages_health_and_plans(scenario: str, tmp_path: Path) -> None:
    original, _ = vault(scenario)
    before = picture(original)
    path = written(capture(original), tmp_path)
    replayed, _ = vault(str(path))
    after = picture(replayed)
    assert after == before
    assert Counter(after["stages"].values()) == Counter(before["stages"].values())


def test_a_masked_capture_names_nothing_of_the_vault_and_plays_back_the_same(tmp_path: Path) -> None:
    original, _ = vault("demo")
    masker = Masker("classroom-salt")
    path = written(capture(original, masker=masker), tmp_path)
    text = path.read_text(encoding="utf-8").lower()

    items = [i for page in original.iter_item_pages() for i in page]
    fabrics = original.list_fabrics()
    secret = {original.vault.name, original.vault.resource_group, original.vault.subscription_id}
    secret |= {n for i in items for n in (i.friendly_name, i.name, i.multi_vm_group_name) if n}
    secret |= {p.name for p in original.list_plans()} | {p.friendly_name for p in original.list_plans()}
    for f in fabrics:
        secret |= {f.name, f.friendly_name} | {a.name for a in f.run_as_accounts}
        secret |= {n for p in f.process_servers for n in (p.friendly_name, p.ip_address)}
        secret |= {n for t in f.master_targets for n in (t.name, t.ip_address)}
        secret |= {d.name for t in f.master_targets for d in t.datastores}
    left = sorted(s for s in secret if s and len(s) >= 3 and s.lower() in text)
    assert not left, left

    replayed, _ = vault(str(path))
    before, after = picture(original), picture(replayed)
    assert after["stages"] == {masker.name("vm", n): k for n, k in before["stages"].items()}
    assert {masker.name("plan", n): [masker.name("vm", v) for v in sorted(members, key=lambda v: masker.name("vm", v))]
            for n, members in before["plans"].items()} == {n: sorted(m) for n, m in after["plans"].items()}  # fmt: skip


def test_the_same_salt_gives_the_same_pseudonyms_and_another_salt_others() -> None:
    original, _ = vault("small")
    names = [[i["name"] for i in capture(original, masker=Masker(salt))["items"]] for salt in ("a", "a", "b")]
    assert names[0] == names[1] and set(names[0]).isdisjoint(names[2])


def test_capturing_sends_nothing_but_reads() -> None:
    original, emulator = vault("demo")
    methods: list[str] = []
    handle = emulator.handle

    def counted(method: str, url: str, headers: Any, body: bytes | None) -> Any:
        methods.append(method)
        return handle(method, url, headers, body)

    emulator.handle = counted  # type: ignore[method-assign]
    capture(original, masker=Masker("x"))
    assert methods and set(methods) == {"GET"}


def test_a_capture_is_a_lesson_train_check_accepts_and_the_cli_writes_it_private(tmp_path: Path) -> None:
    out = tmp_path / "room.json"
    assert main(["capture", "--demo", "--mask", "--salt", "room-1", "-o", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert check_file(out) == []
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["training"]["focus"] and doc["title"].startswith("Captured from vault-")
    assert main(["capture", "--demo", "--salt", "room-1", "-o", str(tmp_path / "x.json")]) == 2  # salt needs mask
    assert not (tmp_path / "x.json").exists()
