"""The command line: list, inspect and drive the failback from scripts and shells (`avs-failback COMMAND`).

`core/` holds the service layer and knows nothing of this package; the dashboard (`tui/`) hands every command
that is not its own to `cli.main`. One module per command group, each registering its commands and examples
(`register`), the shared output in `output`, `formats` and `shapes`.
"""
