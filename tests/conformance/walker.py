"""JSON walked against the installed SDK's own model classes: unknown keys, wrong JSON types, unknown discriminators.

Nothing here copies the SDK's models: every class, field name, type hint and discriminator is read from
`azure.mgmt.recoveryservicessiterecovery.models` as installed (its `rest_field` metadata in `_attr_to_rest_field`,
the `__mapping__` of each discriminated base, the Literal hint on each subclass's discriminator field).
"""

from __future__ import annotations

import datetime
import enum
import functools
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from azure.mgmt.recoveryservicessiterecovery import models as sdk
from azure.mgmt.recoveryservicessiterecovery.models import _models as sdk_models

Model = type  # an SDK model class


@dataclass(frozen=True)
class Finding:
    """One difference between a JSON document and the SDK's model of it."""

    path: str  # JSON path, e.g. $.properties.customDetails.masterTargetServers[0].dataStores[0].freeSpace
    model: str  # the SDK class the value was read as
    problem: str

    def __str__(self) -> str:
        return f"{self.path} ({self.model}): {self.problem}"


@dataclass(frozen=True)
class Allowed:
    """A key a recorded real session shows Azure sending that the SDK's model lacks."""

    model: str  # SDK class name
    key: str  # the JSON key, as recorded
    source: str  # recording file and offset, for the reader who doubts it


@dataclass(frozen=True)
class Field:
    rest_name: str
    hint: Any
    discriminator: bool
    plan: _Plan  # how a value of it is checked


def _is_model(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, sdk_models._Model)


@functools.cache
def fields(cls: Model) -> dict[str, Field]:
    """The model's JSON keys (rest names) with the type hint of each, as the SDK itself resolves them."""
    cls({})  # the SDK computes _attr_to_rest_field on the first instance of each class
    hints = typing.get_type_hints(cls, globalns=vars(sdk_models), localns={"_models": sdk})
    out: dict[str, Field] = {}
    for attr, rest in cls._attr_to_rest_field.items():  # type: ignore[attr-defined]
        hint = hints.get(attr, Any)
        out[rest._rest_name] = Field(rest._rest_name, hint, bool(rest._is_discriminator), plan_of(hint))
    return out


@functools.cache
def _discriminator(cls: Model) -> Field | None:
    found = [f for f in fields(cls).values() if f.discriminator]
    return found[0] if found else None


def _literal_values(hint: Any) -> tuple[Any, ...]:
    return typing.get_args(hint) if typing.get_origin(hint) is typing.Literal else ()


@functools.cache
def _mappings(cls: Model) -> list[dict[str, Model]]:
    """The discriminator tables under `cls`: its own, then those of subclasses that keep one of their own.

    JobTaskDetails, for one, is a TaskTypeDetails with its own table (VirtualMachineTaskDetails and
    FabricReplicationGroupTaskDetails live there, not in TaskTypeDetails').
    """
    tables: list[dict[str, Model]] = []
    pending = [getattr(cls, "__mapping__", None)]
    while pending:
        table = pending.pop(0)
        if table is None or any(table is t for t in tables):
            continue
        tables.append(table)
        pending.extend(getattr(sub, "__mapping__", None) for sub in table.values())
    return tables


def subclass_for(cls: Model, value: Any) -> Model | None:
    """The SDK class that models this discriminator value, through every level of subclasses.

    None when no class of the SDK carries the value: the SDK would keep the base class and drop every field of
    the subclass. (The SDK's own deserializer looks in the first table only, so a VirtualMachineTaskDetails read
    as a task's TaskTypeDetails stays a TaskTypeDetails there; its keys survive in the model's dict.)
    """
    for table in _mappings(cls):
        if isinstance(value, str) and value in table:
            return table[value]
    return None


@functools.cache
def known_discriminators(cls: Model) -> tuple[str, ...]:
    return tuple(sorted({key for table in _mappings(cls) for key in table}))


@functools.cache
def _enum_values(cls: type[enum.Enum]) -> frozenset[str]:
    return frozenset(str(member.value) for member in cls)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class _Plan:
    """How to check a value against one type hint, worked out once per hint."""

    kind: str  # any | optional | enum | union | literal | list | dict | model | scalar | unknown
    inner: Any = None  # the plan inside Optional / list / dict; the enum, model or scalar class
    options: tuple[Any, ...] = ()  # union members (plans); literal values


@functools.cache
def plan_of(hint: Any) -> _Plan:
    if hint is Any:
        return _Plan("any")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = tuple(a for a in args if a is not type(None))
        if len(options) < len(args):
            inner = options[0] if len(options) == 1 else typing.Union[options]  # noqa: UP007 - rebuilt at run time
            return _Plan("optional", plan_of(inner))
        enums = [a for a in options if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums and [a for a in options if a not in enums] == [str]:
            return _Plan("enum", enums[0])
        return _Plan("union", options=tuple(plan_of(o) for o in options))
    if origin is typing.Literal:
        return _Plan("literal", options=args)
    if origin is list:
        return _Plan("list", plan_of(args[0] if args else Any))
    if origin is dict:
        return _Plan("dict", plan_of(args[1] if len(args) > 1 else Any))
    if _is_model(hint):
        return _Plan("model", hint)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _Plan("enum", hint)
    if hint in _EXPECTED:
        return _Plan("scalar", hint)
    return _Plan("unknown", hint)


class Walker:
    """Walks JSON against a model class. `strict_enums` also fails a string outside the SDK's enum (requests)."""

    def __init__(
        self,
        allowed: Iterable[Allowed] = (),
        *,
        strict_enums: bool = False,
        enums: Mapping[tuple[str, str], type[enum.Enum]] | None = None,
    ) -> None:
        self._allowed = {(a.model, a.key) for a in allowed}
        self.used: set[tuple[str, str]] = set()  # allow-list entries a walk needed
        self.strict_enums = strict_enums
        # (model, key) of a plain string field whose values the SDK spells out as an enum elsewhere (strict only).
        self._enums = dict(enums or {})

    def walk(self, value: Any, cls: Model, path: str = "$") -> list[Finding]:
        out: list[Finding] = []
        self._model(value, cls, [path], out)
        return out

    def walk_hint(self, value: Any, hint: Any, path: str, model: str) -> list[Finding]:
        out: list[Finding] = []
        self._value(value, plan_of(hint), [path], model, out)
        return out

    # -- the walk (the path is a list of parts, joined only when something is found) ---------------------------

    @staticmethod
    def _found(out: list[Finding], path: list[str], model: str, problem: str) -> None:
        out.append(Finding("".join(path), model, problem))

    def _model(self, value: Any, cls: Model, path: list[str], out: list[Finding]) -> None:
        if type(value) is not dict:
            self._found(out, path, cls.__name__, f"expected a JSON object, got {_json_type(value)}")
            return
        disc = _discriminator(cls)
        if disc is not None and getattr(cls, "__mapping__", None) is not None:
            tag = value.get(disc.rest_name)
            literal = _literal_values(disc.hint)
            if literal:
                if tag not in literal:
                    self._found(out, [*path, f".{disc.rest_name}"], cls.__name__, f"{tag!r} is not {literal[0]!r}")
            else:
                sub = subclass_for(cls, tag)
                if sub is None:
                    known = ", ".join(known_discriminators(cls))
                    problem = f"unknown discriminator {tag!r}; the SDK knows: {known}"
                    self._found(out, [*path, f".{disc.rest_name}"], cls.__name__, problem)
                elif sub is not cls:
                    self._model(value, sub, path, out)
                    return
        known = fields(cls)
        name = cls.__name__
        for key, child in value.items():
            spec = known.get(key)
            if spec is None:
                if (name, key) in self._allowed:
                    self.used.add((name, key))
                    continue
                self._found(out, [*path, f".{key}"], name, "key not in the SDK's model")
                continue
            path.append(f".{key}")
            typed = self._enums.get((name, key))
            if typed is not None and self.strict_enums and child is not None:
                self._enum(child, typed, path, name, out)
            else:
                self._value(child, spec.plan, path, name, out)
            path.pop()

    def _value(self, value: Any, plan: _Plan, path: list[str], model: str, out: list[Finding]) -> None:
        kind = plan.kind
        if kind == "any":
            return
        if kind == "optional":
            if value is not None:
                self._value(value, plan.inner, path, model, out)
            return
        if value is None:
            # Not Optional in the SDK: the field is required there, and null is not a value of its type.
            self._found(out, path, model, "null where the SDK has no Optional")
            return
        if kind == "scalar":
            name, check = _EXPECTED[plan.inner]
            if not check(value):
                self._found(out, path, model, f"expected {name}, got {_json_type(value)} {value!r:.60}")
        elif kind == "model":
            self._model(value, plan.inner, path, out)
        elif kind == "list":
            if type(value) is not list:
                self._found(out, path, model, f"expected a JSON array, got {_json_type(value)}")
                return
            for index, child in enumerate(value):
                path.append(f"[{index}]")
                self._value(child, plan.inner, path, model, out)
                path.pop()
        elif kind == "dict":
            if type(value) is not dict:
                self._found(out, path, model, f"expected a JSON object, got {_json_type(value)}")
                return
            for key, child in value.items():
                path.append(f"[{key!r}]")
                self._value(child, plan.inner, path, model, out)
                path.pop()
        elif kind == "enum":
            self._enum(value, plan.inner, path, model, out)
        elif kind == "literal":
            if value not in plan.options:
                self._found(out, path, model, f"{value!r} is not one of {list(plan.options)}")
        elif kind == "union":
            attempts: list[list[Finding]] = []
            for option in plan.options:
                tried: list[Finding] = []
                self._value(value, option, ["".join(path)], model, tried)
                attempts.append(tried)
            if all(attempts):
                out.extend(min(attempts, key=len))
        else:
            self._found(out, path, model, f"the walker does not know the SDK type {plan.inner!r}")

    def _enum(self, value: Any, cls: type[enum.Enum], path: list[str], model: str, out: list[Finding]) -> None:
        if type(value) is not str:
            self._found(out, path, model, f"expected a JSON string ({cls.__name__}), got {_json_type(value)}")
            return
        if self.strict_enums and value not in _enum_values(cls):
            allowed = ", ".join(sorted(_enum_values(cls)))
            self._found(out, path, model, f"{value!r} is not a value of {cls.__name__} ({allowed})")


# Most specific first: a boolean is an int to Python, not to JSON.
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "an object"),
)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return next((word for kind, word in _JSON_TYPES if isinstance(value, kind)), type(value).__name__)


def _is_datetime(value: Any) -> bool:
    return isinstance(value, str) and bool(_RFC3339.match(value))


_EXPECTED: dict[Any, tuple[str, Any]] = {
    str: ("a JSON string", lambda v: isinstance(v, str)),
    int: ("a JSON integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    float: ("a JSON number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    bool: ("a JSON boolean", lambda v: isinstance(v, bool)),
    datetime.datetime: ("an RFC 3339 date-time string", _is_datetime),
}
