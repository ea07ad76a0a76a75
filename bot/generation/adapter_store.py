"""Where a community's voices (LoRA adapters) live, and which are kept loaded (no torch here:
the service resolves names on the caller's side, and the remote backend refuses them).

An adapter is a folder in peft's format (``adapter_config.json``, ``adapter_model.safetensors``)
with the ``card.json`` training wrote beside them; its name is the folder's name.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Generic, TypeVar

from bot.errors import InvalidRequest

NAME = re.compile(r"[a-z0-9_-]{1,40}")
CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILE = "adapter_model.safetensors"

T = TypeVar("T")


def is_adapter_dir(path: Path) -> bool:
    """Whether ``path`` holds an adapter's config and weights."""
    return (path / CONFIG_FILE).is_file() and (path / WEIGHTS_FILE).is_file()


class AdapterStore:
    """A folder of adapters, one subfolder each, looked up by name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def names(self) -> list[str]:
        """The adapters there are, sorted (for autocomplete and listings)."""
        if not self.root.is_dir():
            return []
        return sorted(
            child.name
            for child in self.root.iterdir()
            if NAME.fullmatch(child.name) and is_adapter_dir(child)
        )

    def resolve(self, adapter: str) -> Path:
        """The folder of ``adapter``: a name in this store, or a path to an adapter's folder
        (the console's ``--adapter ./my-voice``). Raises ``InvalidRequest`` with a message for
        the person who asked."""
        looks_like_path = "/" in adapter or "\\" in adapter or adapter.startswith((".", "~"))
        if looks_like_path:
            path = Path(adapter).expanduser()
            if not is_adapter_dir(path):
                raise InvalidRequest(
                    f"{adapter} is not an adapter's folder (it needs {CONFIG_FILE} and "
                    f"{WEIGHTS_FILE})."
                )
            return path.resolve()
        if not NAME.fullmatch(adapter):
            raise InvalidRequest(
                f"{adapter!r} is not a voice's name: use up to 40 lowercase letters, digits, "
                "- and _."
            )
        path = self.root / adapter
        if not is_adapter_dir(path):
            raise InvalidRequest(f"There is no voice named {adapter!r}. Train it first.")
        return path.resolve()


class LoadedAdapters(Generic[T]):
    """The few adapters kept loaded, least recently used dropped first; those in use by a
    running row are never dropped (the cache then holds more than ``capacity`` until they
    finish). Used on the engine's worker thread only."""

    def __init__(self, capacity: int, *, dropped: Callable[[str, T], None] | None = None) -> None:
        self._capacity = capacity
        self._dropped = dropped
        self._items: OrderedDict[str, T] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __getitem__(self, key: str) -> T:
        return self._items[key]

    def get(self, key: str, load: Callable[[], T], *, in_use: Iterable[str] = ()) -> T:
        """The adapter ``key``, loaded by ``load`` the first time (whose errors propagate and
        leave nothing behind)."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = load()
        self._items[key] = value
        busy = set(in_use) | {key}
        for old in [k for k in self._items if k not in busy]:
            if len(self._items) <= self._capacity:
                break
            dropped = self._items.pop(old)
            if self._dropped is not None:
                self._dropped(old, dropped)
        return value
