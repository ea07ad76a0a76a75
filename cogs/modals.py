"""Reading a submitted modal: the value of one text input, wherever Discord nested it."""

from __future__ import annotations

from typing import Any


def submitted_value(data: dict[str, Any], custom_id: str) -> str:
    """The value of the text input ``custom_id`` in a modal submission (in action rows or
    labels); "" when it is missing."""
    stack: list[Any] = list(data.get("components", []))
    while stack:
        component = stack.pop()
        if not isinstance(component, dict):
            continue
        if component.get("custom_id") == custom_id and "value" in component:
            return str(component["value"])
        stack.extend(component.get("components", []))
        if "component" in component:
            stack.append(component["component"])
    return ""
