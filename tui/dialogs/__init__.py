"""Modal dialogs; each returns a value through dismiss()."""
