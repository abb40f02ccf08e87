"""The agent that answers a user's message: any class with
``reply(*, user, conversation, text) -> Reply``, chosen by the
``CHATBOT_AGENT`` setting (a dotted path). An agent acts only through the
task tools (chatbot.tools), and every call it makes, with its arguments and
result, is stored in the reply's ``tool_calls``; so an agent backed by a
language model can replace the default without changing tables or the API.

The default, ``CommandAgent``, needs no network: it understands plain
commands ("add buy milk", "list", "complete 2", "delete milk",
"rename 1 to call mum", "help").
"""

import re
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string

# A module import: tools -> services -> agents -> tools is a cycle.
from chatbot import tools

HELP = (
    "I can manage your tasks. Try: “add buy milk”, “list” (or “list done”, "
    "“list open”), “complete 2”, “delete buy milk”, “rename 1 to call mum”. "
    "A task is named by its number in the list or by (part of) its title."
)


@dataclass
class Reply:
    content: str
    tool_calls: list[dict] = field(default_factory=list)


def validate_tool_calls(value) -> None:
    """``messages.tool_calls``: null, or a list of ``{"name": tool,
    "arguments": {...}}`` with either ``"result": {...}`` or ``"error": "..."``."""
    if value is None:
        return
    if not isinstance(value, list):
        raise ValidationError("tool_calls is a list.", code="invalid")
    for i, call in enumerate(value):
        keys = set(call) if isinstance(call, dict) else set()
        shaped = (
            keys in ({"name", "arguments", "result"}, {"name", "arguments", "error"})
            and isinstance(call["name"], str)
            and call["name"] in tools.TOOLS
            and isinstance(call["arguments"], dict)
            and isinstance(call.get("result", {}), dict)
            and isinstance(call.get("error", ""), str)
        )
        if not shaped:
            raise ValidationError(f"tool_calls.{i} is not a tool call.", code="invalid")


@cache
def _agent_class():
    return import_string(settings.CHATBOT_AGENT)


def agent_get():
    return _agent_class()()


class CommandAgent:
    """Plain commands about the user's tasks, carried out with the tools."""

    COMMANDS = [
        (re.compile(r"^(?:add|new|create)(?: task)?:?\s+(?P<title>.+)$", re.I), "add"),
        (
            re.compile(
                r"^(?:list|show)(?: (?:my )?tasks)?(?: (?P<which>done|open))?$", re.I
            ),
            "list",
        ),
        (
            re.compile(r"^(?:complete|done|finish|check)\s+(?P<ref>.+)$", re.I),
            "complete",
        ),
        (re.compile(r"^(?:delete|remove)\s+(?P<ref>.+)$", re.I), "delete"),
        (re.compile(r"^rename\s+(?P<ref>.+?)\s+to\s+(?P<title>.+)$", re.I), "rename"),
    ]

    def reply(self, *, user, conversation, text: str) -> Reply:
        self.user, self.calls = user, []
        command = " ".join(text.split())
        for pattern, name in self.COMMANDS:
            match = pattern.match(command)
            if match:
                content = getattr(self, f"_{name}")(**match.groupdict())
                return Reply(content, self.calls)
        return Reply(HELP)

    def _call(self, name: str, **arguments) -> dict:
        call = tools.tool_call(self.user, name, arguments)
        self.calls.append(call)
        if "error" in call:
            raise _Failed(call["error"])
        return call["result"]

    def _add(self, title):
        try:
            task = self._call("add_task", title=title)
        except _Failed as failed:
            return str(failed)
        return f"Added “{task['title']}”."

    def _list(self, which=None):
        completed = {"done": True, "open": False}.get((which or "").lower())
        tasks = self._call("list_tasks", completed=completed)["tasks"]
        if not tasks:
            return "You have no tasks." if completed is None else "None."
        return "\n".join(
            f"{n}. [{'x' if t['completed'] else ' '}] {t['title']}"
            for n, t in enumerate(tasks, 1)
        )

    def _complete(self, ref):
        return self._on_task(ref, "complete_task", "Done: “{title}”.")

    def _delete(self, ref):
        return self._on_task(ref, "delete_task", "Deleted “{title}”.")

    def _rename(self, ref, title):
        return self._on_task(ref, "rename_task", "Renamed to “{title}”.", title=title)

    def _on_task(self, ref, tool, done, **arguments):
        try:
            task = self._task(ref)
            result = self._call(tool, task_id=task["id"], **arguments)
        except _Failed as failed:
            return str(failed)
        return done.format(title=result.get("deleted", result)["title"])

    def _task(self, ref: str) -> dict:
        """The task ``ref`` names: its number in ``list`` or part of its title."""
        tasks = self._call("list_tasks")["tasks"]
        if ref.isdigit():
            if 1 <= int(ref) <= len(tasks):
                return tasks[int(ref) - 1]
            raise _Failed(f"There is no task {ref}; you have {len(tasks)}.")
        found = [t for t in tasks if ref.lower() in t["title"].lower()]
        if len(found) == 1:
            return found[0]
        if not found:
            raise _Failed(f"No task matches “{ref}”.")
        raise _Failed(f"“{ref}” matches {len(found)} tasks; use its number.")


class _Failed(Exception):
    """A tool refused, or a task could not be found: the reply says why."""
