"""A person's request body made into the command the case writer applies."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from core.cases import COMMAND_ADAPTER, Actor, AssignBody, Assignee, CaseCommand, CommandBody, SuperviseBody


def command_from_body(
    body: CommandBody,
    case_id: UUID,
    actor: Actor,
    issued_at: datetime,
    command_id: UUID,
    assignee: Assignee | None = None,
) -> CaseCommand:
    """The full command a person's request body stands for; an assign takes the party resolved in the registry."""
    fields = body.model_dump(mode="json")
    if isinstance(body, SuperviseBody):
        fields["level"] = 1
    if isinstance(body, AssignBody):
        if assignee is None or (assignee.kind, assignee.id) != (body.assignee.kind, body.assignee.id):
            raise ValueError("an assign needs the party it names, as resolved in the registry")
        fields["assignee"] = assignee.model_dump(mode="json")
    return COMMAND_ADAPTER.validate_python(
        {**fields, "case_id": case_id, "actor": actor.model_dump(), "issued_at": issued_at, "command_id": command_id}
    )
