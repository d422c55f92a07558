"""Which keys the mapping reads, and under which SDK model: JSON wrapped in dicts that write down every key asked.

Each wrapped object knows the SDK class its place in the document has (discriminators resolved as the walker
does), so a read of a key that class lacks is caught even when the document does not carry the key at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.conformance.walker import Model, fields, plan_of, subclass_for


@dataclass(frozen=True)
class Read:
    model: str  # the SDK class of the object read ("-" where the SDK has none: a list page, a raw envelope)
    key: str
    known: bool  # the SDK's class has the key


@dataclass
class Reads:
    seen: set[Read] = field(default_factory=set)

    def wrap(self, value: Any, cls: Model | None) -> Any:
        return _wrap(value, None if cls is None else plan_of(cls), self)

    @property
    def unknown(self) -> set[Read]:
        return {r for r in self.seen if not r.known}


class Traced(dict):  # type: ignore[type-arg]
    """A JSON object that notes each key read from it (get, [], in)."""

    def __init__(self, data: dict[str, Any], cls: Model | None, reads: Reads) -> None:
        super().__init__(data)
        self.cls = cls
        self.reads = reads

    def _note(self, key: Any) -> None:
        if self.cls is None:
            return
        self.reads.seen.add(Read(self.cls.__name__, str(key), str(key) in fields(self.cls)))

    def get(self, key: Any, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)


def _model_of(value: dict[str, Any], cls: Model) -> Model:
    """The class the SDK would read this object as (its discriminator followed), else `cls` itself."""
    for spec in fields(cls).values():
        if spec.discriminator and getattr(cls, "__mapping__", None) is not None:
            sub = subclass_for(cls, value.get(spec.rest_name))
            if sub is not None and sub is not cls:
                return _model_of(value, sub)
    return cls


def _wrap(value: Any, plan: Any, reads: Reads) -> Any:
    while plan is not None and plan.kind == "optional":
        plan = plan.inner
    if isinstance(value, list):
        inner = plan.inner if plan is not None and plan.kind == "list" else None
        return [_wrap(v, inner, reads) for v in value]
    if not isinstance(value, dict):
        return value
    if plan is None or plan.kind not in ("model", "dict"):
        return Traced({k: _wrap(v, None, reads) for k, v in value.items()}, None, reads)
    if plan.kind == "dict":
        return {k: _wrap(v, plan.inner, reads) for k, v in value.items()}
    cls = _model_of(value, plan.inner)
    known = fields(cls)
    children = {k: _wrap(v, known[k].plan if k in known else None, reads) for k, v in value.items()}
    return Traced(children, cls, reads)
