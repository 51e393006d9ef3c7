"""The step registry: step type -> its document model and its runtime handler.

Built-in steps register in flows/steps.py; the shop issue adds commerce steps the same way
(`register(model, handler)`), and validation, the JSON Schema and the runtime pick them up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chatcart.flows.document import Step

if TYPE_CHECKING:
    from chatcart.flows.runtime import Run

S = TypeVar("S", bound=Step)
# A handler runs one step of a run: it appends actions and moves run.state on.
Handler = Callable[["Run", Any], None]

MODELS: dict[str, type[Step]] = {}
HANDLERS: dict[str, Handler] = {}


def register(model: type[S], handler: Callable[[Run, S], None]) -> None:
    kind = model.model_fields["type"].annotation
    name = getattr(kind, "__args__", (None,))[0]
    if not isinstance(name, str):
        raise TypeError(f"{model.__name__}.type must be a Literal of one string")
    MODELS[name] = model
    HANDLERS[name] = handler
