"""The mode banner: REHEARSAL, SIMULATION, READ-ONLY, and where a profile sends the token, on every screen."""

from __future__ import annotations

from textual.widgets import Static

from tui.text import plain


class ModeBanner(Static):
    """One line naming the modes that change what the operator's keys do; hidden when there are none."""

    DEFAULT_CLASSES = "mode-banner"

    def on_mount(self) -> None:
        self.refresh_modes()

    def refresh_modes(self) -> None:
        parts: list[str] = []
        simulated = bool(getattr(self.app, "simulated", False))
        read_only = bool(getattr(self.app, "read_only", False))
        rehearsal = bool(getattr(getattr(self.app, "backend", None), "rehearsal", False))
        if rehearsal:
            parts.append("REHEARSAL — vault read live, no change sent, jobs simulated")
        if simulated:
            fleet = getattr(self.app, "backend", True) is None and getattr(self.app, "fleet", None) is not None
            what = "emulated vaults" if fleet else "emulated vault"
            parts.append(f"SIMULATION — {what}, nothing in Azure is touched")
        if read_only:
            parts.append("READ-ONLY — browsing only, no action can be sent")
        # A profile (a file) that moves the ARM endpoint or trusts a private CA: the operator did not type it.
        notices = tuple(getattr(getattr(self.app, "settings", None), "notices", ()) or ())
        parts.extend(f"NOTE: {notice}" for notice in notices)
        self.set_class(bool(notices), "-notice")
        self.display = bool(parts)
        self.set_class(simulated, "-simulated")
        self.set_class(read_only, "-read-only")
        self.set_class(rehearsal, "-rehearsal")
        self.update(plain("  ·  ".join(parts)))
