"""A text field that keeps up with fast typing: `abcd<Tab>efgh` in one burst lands in two
fields, as it does at a pause between keys.

Textual hands each key to the widget focused when the key is read, and Tab moves the focus
only once it has bubbled up to the screen's binding. A terminal delivers a burst (a paste
without bracketed paste, a password manager, a fast typist over SSH) in one read, so the
keys after a Tab are already queued for the first field when the focus moves: they were
typed into it. Here Tab moves the focus in the field itself, before the next key is taken
from its queue, and a key that reaches a field that no longer has the focus goes on to the
one that has it, in the order typed. Likewise the field's own editing keys (Backspace,
Ctrl+U, Home...) act in the field before the next key: as bindings they would run only once
the key had bubbled up, after the keys typed behind them: `abcd<Backspace>e` in one read (a
slow SSH link) gave abc, not abce, and Ctrl+U then a path erased the path.
"""

from __future__ import annotations

from textual import events
from textual.binding import NoBinding
from textual.widgets import Input


class TextField(Input):
    async def _on_key(self, event: events.Key) -> None:
        focused = self.screen.focused if self.screen is self.app.screen else None
        if focused is not None and focused is not self:
            # Typed after a Tab of the same burst: it belongs to the widget focused now.
            event.stop()
            event.prevent_default()
            focused._forward_event(events.Key(event.key, event.character))  # as App does
            return
        if event.key in ("tab", "shift+tab"):
            event.stop()
            event.prevent_default()
            if event.key == "tab":
                self.screen.focus_next()
            else:
                self.screen.focus_previous()
            return
        try:
            own = self._bindings.get_bindings_for_key(event.key)
        except NoBinding:
            own = []
        if own and not event.is_printable:
            event.stop()
            event.prevent_default()
            await self.run_action(own[0].action)
            return
        await super()._on_key(event)
