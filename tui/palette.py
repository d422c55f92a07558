"""The command palette's jumps: every VM and recovery plan by name, beside the actions (ctrl+p)."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.command import Hit, Hits, Provider

from tui import jumps

# A vault may hold ten thousand VMs: the palette offers the best few of them, not a scroll of all.
MAX_HITS = 20


class GoToProvider(Provider):
    """ "VM sql-01", "Plan rp-erp": the same jumps as `:vm NAME` and `:plans NAME`."""

    def _targets(self) -> list[tuple[str, str, str]]:
        app: Any = self.app
        found = [("VM", name, f"vm {name}") for name in jumps._vm_names(app)]
        found += [("Plan", name, f"plans {name}") for name in jumps._plan_names(app)]
        return found

    async def search(self, query: str) -> Hits:
        wanted = query.strip().lower()
        if len(wanted) < 2:
            return
        matcher = self.matcher(query)
        hits = []
        for kind, name, line in self._targets():
            if wanted not in f"{kind} {name}".lower() and wanted not in name.lower():
                continue
            title = f"{kind} {name}"
            score = matcher.match(title) or 0.5
            hits.append((score, title, line))
        hits.sort(key=lambda h: -h[0])
        for score, title, line in hits[:MAX_HITS]:
            yield Hit(score, matcher.highlight(title), partial(self._go, line), text=title, help=f"Go to (:{line})")

    def _go(self, line: str) -> None:
        from tui.dialogs.command_line import CommandLine

        error = jumps.run_line(self.app, line)
        if error:
            self.app.push_screen(CommandLine(line, error))
