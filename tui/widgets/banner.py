"""The mode banner: SIMULATION and READ-ONLY, shown on every screen and dialog."""

from __future__ import annotations

from textual.widgets import Static


class ModeBanner(Static):
    """One line naming the modes that change what the operator's keys do; hidden when there are none."""

    DEFAULT_CLASSES = "mode-banner"

    def on_mount(self) -> None:
        self.refresh_modes()

    def refresh_modes(self) -> None:
        parts: list[str] = []
        simulated = bool(getattr(self.app, "simulated", False))
        read_only = bool(getattr(self.app, "read_only", False))
        if simulated:
            parts.append("SIMULATION — emulated vault, nothing in Azure is touched")
        if read_only:
            parts.append("READ-ONLY — browsing only, no action can be sent")
        self.display = bool(parts)
        self.set_class(simulated, "-simulated")
        self.set_class(read_only, "-read-only")
        self.update("  ·  ".join(parts))
