"""`acctsec intel update`: fetch the public attribution lists into dated snapshots."""

from __future__ import annotations

import typer

from acctsec.cli._app import app, config_path, err_console
from acctsec.config import load_settings

intel_app = typer.Typer(help="Attribution data: GraphSense TagPacks, OFAC and Forta lists.",
                        no_args_is_help=True, rich_markup_mode=None)
app.add_typer(intel_app, name="intel")


@intel_app.command("update")
def update_command(
    keep: int = typer.Option(5, "--keep", min=1, help="Dated snapshots to keep."),
) -> None:
    """Download TagPacks, OFAC and Forta lists into a new dated snapshot of the data dir."""
    import httpx

    from acctsec.intel.update import update

    settings = load_settings(config_path())
    data_dir = settings.resolved_data_dir()
    with httpx.Client(timeout=settings.http_timeout_s, follow_redirects=True) as client:
        result = update(data_dir, client, settings.intel_urls, keep=keep)
    for rel, why in sorted(result.failed.items()):
        kept = (f" (kept from snapshot {result.carried[rel]})" if rel in result.carried
                else "")
        err_console.print(f"acctsec: not updated: {rel}: {why}{kept}")
    typer.echo(f"{result.snapshot}\t{len(result.files)} files\t{len(result.failed)} failed")
