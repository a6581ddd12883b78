"""The registry's HTTP routes: thin, over `PromptWriter`, the catalog and the renderer."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status

from llmops_common.auth.http import PromptsKey
from llmops_common.errors import PermanentError
from llmops_common.prompts.catalog import PromptCatalog
from llmops_common.prompts.diff import diff_versions

from .schemas import (
    DiffOut,
    LabelName,
    LabelOut,
    LabelRequest,
    PromptList,
    PromptListItem,
    PromptName,
    PromptVersionOut,
    RenderOut,
    RenderRequest,
    VersionList,
    VersionRequest,
)

# The body cap and the key check before the body is read: `service.body_guard`, wired in `app.py`.
router = APIRouter(prefix="/v1/prompts", tags=["prompts"])
Name = Annotated[PromptName, Path()]
_VERSION_NUMBER = re.compile(r"[0-9]{1,18}")


def deps_of(request: Request) -> Any:
    """The registry's `Deps`, opened by the app's lifespan."""
    return request.state.deps


@router.post("/{name}/versions", status_code=status.HTTP_201_CREATED)
async def create_version(request: Request, name: Name, body: VersionRequest, principal: PromptsKey) -> PromptVersionOut:
    """Saves a new immutable version."""
    deps = deps_of(request)
    event = await deps.writer.create_version(principal, name, body)
    return PromptVersionOut.of(event, deps.catalog.history(principal.tenant, name).labels_of(event.version))


@router.get("/{name}")
async def get_prompt(
    request: Request,
    name: Name,
    principal: PromptsKey,
    label: str | None = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> PromptVersionOut:
    """The version a label or number names; the latest by default."""
    if label is not None and version is not None:
        raise PermanentError("give `label` or `version`, not both")
    catalog: PromptCatalog = deps_of(request).catalog
    event = catalog.get(principal.tenant, name, label=label, version=version)
    return PromptVersionOut.of(event, catalog.history(principal.tenant, name).labels_of(event.version))


@router.get("/{name}/versions")
async def list_versions(request: Request, name: Name, principal: PromptsKey) -> VersionList:
    """Every version, oldest first, and where the labels point."""
    history = deps_of(request).catalog.history(principal.tenant, name)
    versions = [PromptVersionOut.of(event, history.labels_of(event.version)) for event in history.versions]
    return VersionList(name=name, versions=versions, labels=dict(sorted(history.labels.items())))


@router.get("")
async def list_prompts(
    request: Request,
    principal: PromptsKey,
    label: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> PromptList:
    """The tenant's prompts by name, a page at a time; `label` keeps those that carry it."""
    summaries = [
        s for s in deps_of(request).catalog.summaries(principal.tenant, label) if cursor is None or s.name > cursor
    ]
    page = summaries[:limit]
    items = [
        PromptListItem(name=s.name, latest_version=s.latest_version, labels=s.labels, updated_at=s.updated_at)
        for s in page
    ]
    return PromptList(prompts=items, next_cursor=page[-1].name if len(summaries) > limit else None)


@router.put("/{name}/labels/{label}")
async def move_label(
    request: Request, name: Name, label: Annotated[LabelName, Path()], body: LabelRequest, principal: PromptsKey
) -> LabelOut:
    """Points a label at a version; pointing it back is the rollback."""
    event = await deps_of(request).writer.move_label(principal, name, label, body)
    return LabelOut(name=name, label=label, version=event.version, previous_version=event.previous_version)


@router.post("/{name}/render")
async def render(request: Request, name: Name, body: RenderRequest, principal: PromptsKey) -> RenderOut:
    """Renders a version with the given variables: a preview of what a model would get."""
    if body.label is not None and body.version is not None:
        raise PermanentError("give `label` or `version`, not both")
    event, rendered = await deps_of(request).renderer.render_off_loop(
        principal.tenant, name, label=body.label, version=body.version, values=body.variables
    )
    return RenderOut(name=name, version=event.version, kind=event.kind, text=rendered.text, messages=rendered.messages)


@router.get("/{name}/diff")
async def diff(
    request: Request,
    name: Name,
    principal: PromptsKey,
    from_ref: Annotated[str, Query(alias="from")],
    to_ref: Annotated[str, Query(alias="to")],
) -> DiffOut:
    """A unified diff between two versions, each named by number or label."""
    catalog: PromptCatalog = deps_of(request).catalog
    old, new = (_version_at(catalog, principal.tenant, name, ref) for ref in (from_ref, to_ref))
    return DiffOut(name=name, from_version=old.version, to_version=new.version, diff=diff_versions(old, new))


def _version_at(catalog: PromptCatalog, tenant: str, name: str, ref: str) -> Any:
    # Not `str.isdigit`, which holds for digits `int` refuses ('²'): those, and numbers too long to be a
    # version, are looked up as labels (and are not found) rather than failing with a 500.
    if _VERSION_NUMBER.fullmatch(ref):
        return catalog.get(tenant, name, version=int(ref))
    return catalog.get(tenant, name, label=ref)
