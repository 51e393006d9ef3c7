from __future__ import annotations

from chatcart.kit.errors import Conflict, NotFound


class WorkspaceNotFound(NotFound):
    code = "workspace_not_found"


class SlugTaken(Conflict):
    code = "workspace_slug_taken"
