"""One provider per replication stack: the only place that knows what an item's instanceType means."""

from __future__ import annotations

from core.model import ProtectedItem, Provider
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
]
