"""ToolForm: declare your own tool (name, description, parameters) and keep it across page reloads.

The form checks a declaration with `nanokit.declared_tools.parse_declaration` (one sentence when something
is wrong) and saves the list with a `DeclarationStore` (a JSON file in the user's config folder).
`on_change(callback)` tells the tool trace when the list changes.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as W

from nanokit.declared_tools import (
    BY_HAND,
    EXAMPLE_IMPLEMENTATIONS,
    DeclarationStore,
    ToolDeclaration,
    parse_declaration,
)
from nanokit.errors import ConfigError

_EXAMPLE_PARAMETERS = "symbol: string  # the ticker, e.g. NVDA\ncurrency?: USD|EUR"


class ToolForm(W.VBox):
    """Fields for one declaration, an Add button, and the saved declarations with a Remove button."""

    def __init__(self, store: DeclarationStore | None = None) -> None:
        self.store = store if store is not None else DeclarationStore()
        self._callbacks: list[Callable[[list[ToolDeclaration]], None]] = []
        wide = W.Layout(width="100%")
        self.name = W.Text(placeholder="get_stock_price", description="Name", layout=wide)
        self.description = W.Text(placeholder="Get the latest price of a stock.", description="Description",
                                  layout=wide)
        self.parameters = W.Textarea(placeholder=_EXAMPLE_PARAMETERS + "\n(or paste a JSON Schema object)",
                                     description="Parameters", layout=W.Layout(width="100%", height="80px"))
        self.answered_by = W.Dropdown(options=[BY_HAND, *EXAMPLE_IMPLEMENTATIONS], value=BY_HAND,
                                      description="Answered", tooltip="Who answers the model's calls")
        self.add_button = W.Button(description="Add tool", icon="plus")
        self.saved = W.Dropdown(options=[], description="Your tools")
        self.remove_button = W.Button(description="Remove", icon="trash")
        self.message = W.HTML()
        self.add_button.on_click(lambda _: self.add())
        self.remove_button.on_click(lambda _: self.remove())
        try:
            self.declarations = self.store.load()
        except ConfigError as exc:  # shown, and the file is left alone until the user fixes it
            self.declarations = []
            self.message.value = _error(str(exc))
        self._refresh()
        super().__init__(children=[
            W.HTML("<b>Declare a tool of your own</b> <small>(parameters: <code>name: type</code> lines or JSON "
                   "Schema)</small>"),
            self.name, self.description, self.parameters,
            W.HBox([self.answered_by, self.add_button], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.saved, self.remove_button], layout=W.Layout(flex_flow="row wrap")),
            self.message,
        ])

    def on_change(self, callback: Callable[[list[ToolDeclaration]], None]) -> None:
        self._callbacks.append(callback)

    def add(self) -> ToolDeclaration | None:
        """Check the fields, add (or replace, by name) the declaration and save the list; None when invalid."""
        try:
            declaration = parse_declaration(self.name.value, self.description.value, self.parameters.value,
                                            self.answered_by.value)
        except ConfigError as exc:
            self.message.value = _error(str(exc))
            return None
        self.declarations = [d for d in self.declarations if d.name != declaration.name] + [declaration]
        if self._save():
            self.message.value = (f"<small style='color:#15803d'>Added {html.escape(declaration.name)}; saved to "
                                  f"<code>{html.escape(str(self.store.path))}</code>.</small>")
        return declaration

    def remove(self, name: str | None = None) -> None:
        name = name or self.saved.value
        self.declarations = [d for d in self.declarations if d.name != name]
        if self._save():
            self.message.value = f"<small>Removed {html.escape(str(name))}.</small>"

    def _save(self) -> bool:
        try:
            self.store.save(self.declarations)
        except OSError as exc:
            self.message.value = _error(f"Could not save the tools to {self.store.path} ({exc}); they last until "
                                        "the page reloads.")
            self._refresh()
            return False
        self._refresh()
        return True

    def _refresh(self) -> None:
        self.saved.options = [d.name for d in self.declarations]
        self.remove_button.disabled = not self.declarations
        for callback in self._callbacks:
            callback(self.declarations)


def _error(text: str) -> str:
    return f"<span class='nanokit-tool-error' style='color:#b91c1c'>{html.escape(text)}</span>"
