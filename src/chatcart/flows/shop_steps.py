"""Commerce steps, registered like the built-in ones: a `shop` step has the shop room
answer inside the flow (categories, a search carousel, the cart, the checkout, the
customer's orders, a reorder, recommendations, the quiz's three picks). Pure: the step
only asks; the conversation engine executes the ShopAction through the shop's service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from chatcart.flows.document import Step
from chatcart.flows.registry import register
from chatcart.flows.schemas import ShopAction

if TYPE_CHECKING:
    from chatcart.flows.runtime import Run

ShopOp = Literal[
    "categories", "search", "cart", "checkout", "my_orders", "reorder", "recommend", "quiz"
]


class ShopStep(Step):
    """Show the shop in the conversation. `query`: the words a search looks for; `args`:
    the quiz's answers (occasion, size, budget in minor units). Both take {{variables}}."""

    type: Literal["shop"]
    op: ShopOp
    query: str = Field(default="", max_length=200)
    args: dict[str, str] = Field(default_factory=dict)


def shop(run: Run, step: ShopStep) -> None:
    run.actions.append(
        ShopAction(
            op=step.op,
            query=run.fill(step.query),
            args={key: run.fill(value) for key, value in step.args.items()},
            language=run.state.language,
        )
    )
    run.go(step.next)


register(ShopStep, shop)
