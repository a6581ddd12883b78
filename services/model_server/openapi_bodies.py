"""Puts the completion routes' request bodies into the OpenAPI, as vLLM's server does.

The routes read their raw bodies and validate them in `serving` (so that a bad one is still recorded, and
no second parse is paid), which hides the bodies from FastAPI. Each route names its model through
`openapi_extra`; the models' schemas join the document's components here, so clients can be generated
and the API fuzzed from `/openapi.json` alone.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .protocol import ChatCompletionRequest, CompletionRequest

BODY_MODELS: tuple[type[BaseModel], ...] = (ChatCompletionRequest, CompletionRequest)
_REF = "#/components/schemas/{model}"


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """A route's `openapi_extra` that documents `model` as its required JSON body."""
    schema = {"$ref": _REF.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def publish_body_schemas(app: FastAPI) -> None:
    """Adds the schemas of `BODY_MODELS`, and the models they use, to the app's OpenAPI components."""
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build_openapi()  # the dict FastAPI caches as `app.openapi_schema`: completed once
        _, definitions = models_json_schema([(model, "validation") for model in BODY_MODELS], ref_template=_REF)
        document.setdefault("components", {}).setdefault("schemas", {}).update(definitions.get("$defs", {}))
        return document

    app.openapi = openapi  # type: ignore[method-assign]
