"""One provider per replication stack: the only place that knows what an item's instanceType means."""

from __future__ import annotations

from collections.abc import Sequence

from core.model import Fabric, ProtectedItem, Provider
from core.providers.base import ActionRequest, FailbackProvider, Verb, Verdict
from core.providers.classic import ClassicProvider
from core.providers.modernized import ModernizedProvider
from core.providers.other import OtherProvider

CLASSIC = ClassicProvider()
MODERNIZED = ModernizedProvider()
OTHER = OtherProvider()

_BY_PROVIDER: dict[Provider, FailbackProvider] = {
    Provider.CLASSIC: CLASSIC,
    Provider.MODERNIZED: MODERNIZED,
    Provider.OTHER: OTHER,
}


def provider_for(item: ProtectedItem) -> FailbackProvider:
    return _BY_PROVIDER[item.provider]


def same_stack(item: ProtectedItem, fabrics: Sequence[Fabric]) -> list[Fabric]:
    """The fabrics whose servers can carry `item`'s reprotect: the replication appliances' (modernized) for a
    modernized VM, the others for a classic one. When no fabric of the VM's kind exists (an answer without the
    appliance lists), all are offered rather than none."""
    modernized = item.provider is Provider.MODERNIZED
    kind = [f for f in fabrics if bool(f.appliances) == modernized]
    return kind if kind or not modernized else list(fabrics)


def by_key(key: str) -> FailbackProvider:
    """The provider a journal or a started operation names ("classic", "modernized"); unknown keys: other."""
    return next((p for p in _BY_PROVIDER.values() if p.key == key), OTHER)


__all__ = [
    "CLASSIC",
    "MODERNIZED",
    "OTHER",
    "ActionRequest",
    "FailbackProvider",
    "Verb",
    "Verdict",
    "by_key",
    "provider_for",
    "same_stack",
]
