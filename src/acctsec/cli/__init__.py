"""The command line: the one place that turns errors into exit codes and messages."""

import sys

try:
    from acctsec.cli import _app, batch, intel_cmd, investigate, ip, link, load, trace
    from acctsec.cli._app import app
except KeyboardInterrupt:  # Ctrl-C in the first tenth of a second, before main() is reached
    sys.stderr.write("acctsec: interrupted\n")
    sys.exit(130)

# Importing a command module registers its commands on `app`.
COMMAND_MODULES = (investigate, trace, link, ip, intel_cmd, batch, load)

__all__ = ["COMMAND_MODULES", "app", "main"]


def main() -> None:
    """Entry point of the `acctsec` script."""
    sys.exit(_app.run(app))
