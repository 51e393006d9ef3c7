"""A strict fake of Meta's Graph API for Messenger and Instagram messaging.

    state = GraphState()
    state.add_page("PAGE_ID", "PAGE_TOKEN", "APP_SECRET", "http://127.0.0.1:8000/webhooks/...")
    app = create_graph_app(state)          # serve it; point the adapter's base URL at it
    await state.user_says("PAGE_ID", "PSID", "xin chào")   # signed webhook to the callback
    state.sends(page="PAGE_ID")            # what the adapter sent, accepted or rejected

Rules: send.py (order of checks), batch.py (batch requests), rules.py (window, tags, private
replies), content.py (limits), marketing.py (opt-in tokens), profile.py (profile API);
webhooks: events.py, emit.py; control API: control.py. Facts from reference/platforms.md
sections 1, 2 and 3.
"""

from chatcart.sandbox.graph.app import create_graph_app
from chatcart.sandbox.graph.clock import SandboxClock
from chatcart.sandbox.graph.emit import Delivery, Emission, WebhookEvent
from chatcart.sandbox.graph.errors import GraphError
from chatcart.sandbox.graph.model import (
    Account,
    FeedObject,
    GraphConfig,
    OptinToken,
    RateLimits,
    SendRecord,
    User,
)
from chatcart.sandbox.graph.state import EmitOptions, GraphState

__all__ = [
    "Account",
    "Delivery",
    "Emission",
    "EmitOptions",
    "FeedObject",
    "GraphConfig",
    "GraphError",
    "GraphState",
    "OptinToken",
    "RateLimits",
    "SandboxClock",
    "SendRecord",
    "User",
    "WebhookEvent",
    "create_graph_app",
]
