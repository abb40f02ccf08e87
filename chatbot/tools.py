"""The task tools: what an agent (chatbot.agents) or an outside AI client
(the MCP server, chatbot.mcp) may do with one user's tasks. Each tool takes
the user and JSON arguments, calls chatbot.services, and returns a JSON
result; a problem is a ``ToolError`` (or the services' ``ValidationError``,
a text over its limit) whose message the caller shows.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from chatbot import services
from chatbot.models import Task

MAX_LISTED = 100


class ToolError(Exception):
    """A tool could not do what it was asked (no such task, a bad argument)."""


def task_json(task: Task) -> dict:
    return {
        "id": str(task.pk),
        "title": task.title,
        "description": task.description,
        "completed": task.completed,
    }


def _task(user, task_id) -> Task:
    try:
        return services.task_get(user=user, task_id=task_id)
    except services.TaskNotFound as error:
        raise ToolError(str(error)) from None


def _title(value) -> str:
    """The title trimmed; its length is the model's to check (the services)."""
    if not isinstance(value, str) or not value.strip():
        raise ToolError("A title is a non-empty string.")
    if "\x00" in value:
        raise ToolError("A title cannot contain the NUL character.")
    return value.strip()


def _problem(error: ValidationError) -> str:
    """``"description: Ensure this value has at most 5000 characters (it has
    5001)."``: each field the services refused, with why."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    return " ".join(
        f"{field}: {' '.join(messages)}"
        for field, messages in error.message_dict.items()
    )


def add_task(user, *, title: str, description: str | None = None) -> dict:
    """Add a task to the user's list."""
    if description is not None and not isinstance(description, str):
        raise ToolError("A description is a string.")
    return task_json(
        services.task_create(user=user, title=_title(title), description=description)
    )


def list_tasks(user, *, completed: bool | None = None) -> dict:
    """The user's tasks, newest first (at most 100); only open or only done
    ones with ``completed``."""
    if completed is not None and not isinstance(completed, bool):
        raise ToolError("completed is true, false or null.")
    tasks = user.tasks.order_by("-created_at", "-id")
    if completed is not None:
        tasks = tasks.filter(completed=completed)
    return {"tasks": [task_json(task) for task in tasks[:MAX_LISTED]]}


def complete_task(user, *, task_id: str) -> dict:
    """Mark one of the user's tasks done."""
    return task_json(services.task_complete(task=_task(user, task_id)))


def rename_task(user, *, task_id: str, title: str) -> dict:
    """Give one of the user's tasks a new title."""
    return task_json(
        services.task_update(task=_task(user, task_id), title=_title(title))
    )


def delete_task(user, *, task_id: str) -> dict:
    """Delete one of the user's tasks."""
    task = _task(user, task_id)
    result = task_json(task)
    services.task_delete(task=task)
    return {"deleted": result}


@dataclass(frozen=True)
class Tool:
    name: str
    function: Callable
    description: str


TOOLS = {
    tool.__name__: Tool(tool.__name__, tool, (tool.__doc__ or "").strip())
    for tool in (add_task, list_tasks, complete_task, rename_task, delete_task)
}


def tool_call(user, name: str, arguments: dict) -> dict:
    """Run tool ``name`` for ``user``: ``{"name", "arguments", "result"}``, or
    ``{"name", "arguments", "error"}`` when it failed (the shape stored in
    ``messages.tool_calls``)."""
    tool = TOOLS.get(name)
    try:
        if tool is None:
            raise ToolError(f"There is no tool {name!r}.")
        try:
            inspect.signature(tool.function).bind(user, **arguments)
        except TypeError as error:
            raise ToolError(f"Wrong arguments: {error}.") from None
        result = tool.function(user, **arguments)
    except ToolError as error:
        return {"name": name, "arguments": arguments, "error": str(error)}
    except ValidationError as error:
        return {"name": name, "arguments": arguments, "error": _problem(error)}
    return {"name": name, "arguments": arguments, "result": result}
