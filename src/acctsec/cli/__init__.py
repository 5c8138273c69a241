"""The command line: the one place that turns errors into exit codes and messages."""

import sys

from acctsec.cli import _app
from acctsec.cli._app import app

# Each module registers its commands on `app` when imported.
from acctsec.cli import intel_cmd as _intel_cmd  # noqa: E402, F401, I001
from acctsec.cli import investigate as _investigate  # noqa: E402, F401, I001
from acctsec.cli import ip as _ip  # noqa: E402, F401
from acctsec.cli import trace as _trace  # noqa: E402, F401

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the `acctsec` script."""
    sys.exit(_app.run(app))
