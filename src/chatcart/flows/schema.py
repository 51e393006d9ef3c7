"""The published JSON Schema of flow documents (docs/flow.schema.json), generated from the
models and the step registry; a test keeps the checked-in copy in sync."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, create_model

from chatcart.flows import steps as _steps  # noqa: F401  (registers the built-in steps)
from chatcart.flows.document import Flow, FlowSet, Identifier
from chatcart.flows.registry import MODELS

SCHEMA_ID = "https://chatcart.dev/schemas/flow.schema.json"


def json_schema() -> dict[str, Any]:
    models = tuple(MODELS[name] for name in sorted(MODELS))
    any_step = Annotated[Union[models], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    flow = create_model(
        "Flow",
        __base__=Flow,
        __doc__="One flow: its triggers and its steps.",
        steps=(dict[Identifier, any_step], Field(min_length=1)),
    )
    flow_set = create_model(
        "FlowSet",
        __base__=FlowSet,
        __doc__="Several flows in one file.",
        flows=(list[flow], Field(min_length=1)),
    )
    schema = TypeAdapter(flow | flow_set).json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "chatcart flow document",
        **schema,
    }
