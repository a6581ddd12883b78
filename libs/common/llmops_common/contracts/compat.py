"""Breaking changes between two revisions of one vN event type's JSON Schema.

The rule is BACKWARD: a consumer that validates with the new schema must accept every event that was
valid under the old one. A change breaks that when the new schema rejects something the old one let
through: a property removed from a closed object, a property that became required, a type, enum,
format, bound or pattern that narrowed. Local `$ref`s are followed, so renaming a definition is
harmless while changing what it describes is not; a non-local `$ref` must keep its target. Loosening
is never reported, and `allOf` is read as the merge of its parts, which is what pydantic means by it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any] | bool
_Seen = frozenset[tuple[str, str]]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def breaking_changes(old: Schema, new: Schema, *, root: str = "payload") -> list[str]:
    """Why an event valid under `old` may fail `new`, one readable finding each; empty if compatible."""
    findings = _Comparison(old, new).schemas(old, new, root, frozenset())
    return list(dict.fromkeys(findings))


@dataclass(frozen=True)
class _Branch:
    """One alternative of a schema's union, with its `$ref` followed."""

    kind: str  # a JSON type, "any", or "$ref <uri>" for a reference that cannot be followed
    label: str  # how findings name it: its type, or the definition it came from
    schema: Mapping[str, Any]
    ref: str | None


@dataclass(frozen=True)
class _Comparison:
    old_root: Schema
    new_root: Schema

    def schemas(self, old: Schema, new: Schema, path: str, seen: _Seen) -> list[str]:
        """Findings for one position: every old alternative needs a new one that accepts it."""
        old_branches = _branches(self.old_root, old)
        new_branches = _branches(self.new_root, new)
        if any(branch.kind == "any" for branch in new_branches):
            return []
        findings: list[str] = []
        type_changed = False
        for old_branch in old_branches:
            candidates = [
                self.branch(old_branch, new_branch, path, seen)
                for new_branch in new_branches
                if _accepts(new_branch.kind, old_branch.kind)
            ]
            if not candidates:
                type_changed = True
                continue
            closest: list[str] = min(candidates, key=len)  # the best match, in a union of several
            findings.extend(closest)
        if type_changed:
            change = f"type changed from {_describe(old_branches)} to {_describe(new_branches)}"
            findings.insert(0, f"{path}: {change}")
        return findings

    def branch(self, old: _Branch, new: _Branch, path: str, seen: _Seen) -> list[str]:
        """Findings between two alternatives of the same (or a wider) type."""
        findings = [*_value_changes(old.schema, new.schema, path), *_bound_changes(old.schema, new.schema, path)]
        if new.kind == "object":
            pair = (old.ref or "", new.ref or "")
            if old.ref and new.ref and pair in seen:
                return findings  # a recursive definition, already being compared further up
            findings.extend(self.objects(old.schema, new.schema, path, seen | {pair}))
        elif new.kind == "array":
            findings.extend(
                self.schemas(old.schema.get("items", True), new.schema.get("items", True), f"{path}[]", seen)
            )
        return findings

    def objects(self, old: Mapping[str, Any], new: Mapping[str, Any], path: str, seen: _Seen) -> list[str]:
        """Findings between two object schemas: their properties, required lists and extras."""
        findings: list[str] = []
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_extra: Schema = old.get("additionalProperties", True)
        new_extra: Schema = new.get("additionalProperties", True)
        for name in sorted(old_props.keys() | new_props.keys()):
            where = f"{path}.{name}"
            if name not in new_props:
                if new_extra is False:
                    findings.append(f"{where}: property removed")
                else:
                    findings.extend(self.schemas(old_props[name], new_extra, where, seen))
            else:
                # A property new to a closed object was never sent; to an open one, anything was.
                before = old_props.get(name, old_extra)
                if before is not False:
                    findings.extend(self.schemas(before, new_props[name], where, seen))
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for name in sorted(new_required - old_required):
            change = "optional property became required" if name in old_props else "new required property"
            findings.append(f"{path}.{name}: {change}")
        if new_extra is False and old_extra is not False:
            findings.append(f"{path}: no longer accepts properties beyond its own")
        elif new_extra is not False and old_extra is not False:
            findings.extend(self.schemas(old_extra, new_extra, f"{path}.*", seen))
        return findings


def _branches(root: Schema, schema: Schema) -> list[_Branch]:
    if isinstance(schema, bool):
        return [_Branch("any", "any", {}, None)] if schema else []
    resolved, ref = _resolve(root, schema)
    alternatives = resolved.get("anyOf") or resolved.get("oneOf")
    if alternatives:
        return [branch for alternative in alternatives for branch in _branches(root, alternative)]
    types = resolved.get("type")
    if isinstance(types, list):
        return [_Branch(kind, kind, {**resolved, "type": kind}, ref) for kind in types]
    kind = types if isinstance(types, str) else _implied_kind(resolved)
    label = ref.rsplit("/", 1)[-1] if ref and ref.startswith("#") and kind == "object" else kind
    return [_Branch(kind, label, resolved, ref)]


def _resolve(root: Schema, schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
    """`schema` with its local `$ref`s and `allOf` parts merged in, and the last `$ref` it followed."""
    ref = None
    followed: set[str] = set()
    while True:
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                part_schema, part_ref = _resolve(root, part) if isinstance(part, Mapping) else ({}, None)
                merged.update(part_schema)
                ref = part_ref or ref
            schema = {**merged, **{key: value for key, value in schema.items() if key != "allOf"}}
        target = schema.get("$ref")
        if not isinstance(target, str) or not target.startswith("#") or target in followed:
            return schema, ref
        followed.add(target)
        ref = target
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        schema = {**_pointer(root, target), **siblings}


def _pointer(root: Schema, ref: str) -> Mapping[str, Any]:
    node: Any = root
    for token in ref.removeprefix("#").strip("/").split("/"):
        if token:
            node = node[token.replace("~1", "/").replace("~0", "~")]
    return node if isinstance(node, Mapping) else {}


def _implied_kind(schema: Mapping[str, Any]) -> str:
    if isinstance(schema.get("$ref"), str):
        return f"$ref {schema['$ref']}"
    values = _allowed_values(schema)
    if values:
        kinds = {_json_kind(value) for value in values}
        return kinds.pop() if len(kinds) == 1 else "any"
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    return "array" if "items" in schema else "any"


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "any"


def _accepts(new_kind: str, old_kind: str) -> bool:
    return new_kind == old_kind or (new_kind == "number" and old_kind == "integer")


def _describe(branches: list[_Branch]) -> str:
    return " | ".join(dict.fromkeys(branch.label for branch in branches)) or "nothing"


def _allowed_values(schema: Mapping[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _value_changes(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[str]:
    """Narrowed enums, formats and patterns."""
    findings = []
    old_values, new_values = _allowed_values(old), _allowed_values(new)
    if new_values is not None and old_values is None:
        findings.append(f"{path}: values restricted to {_values(new_values)}")
    elif new_values is not None and old_values is not None:
        removed = [value for value in old_values if value not in new_values]
        if removed:
            findings.append(f"{path}: enum values removed: {_values(removed)}")
    for keyword in ("format", "pattern"):
        before, after = old.get(keyword), new.get(keyword)
        if after is not None and after != before:
            findings.append(f"{path}: {keyword} changed from {_show(before)} to {_show(after)}")
    return findings


def _bound_changes(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[str]:
    """Lower bounds that rose and upper bounds that fell, including bounds that are new."""
    findings = []
    for keyword in (*_LOWER_BOUNDS, *_UPPER_BOUNDS):
        before, after = old.get(keyword), new.get(keyword)
        if after is None or isinstance(after, bool):
            continue
        narrowed = before is None or (after > before if keyword in _LOWER_BOUNDS else after < before)
        if narrowed:
            findings.append(f"{path}: {keyword} narrowed from {_show(before)} to {_show(after)}")
    return findings


def _values(values: list[Any]) -> str:
    return ", ".join(json.dumps(value) for value in values)


def _show(value: Any) -> str:
    return "none" if value is None else json.dumps(value)
