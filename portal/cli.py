"""`flask --app app portal ...` commands: generate the warehouse, list metrics, prepare the demo."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

portal_cli = AppGroup("portal", help="Bank data portal administration.")


@portal_cli.command("generate")
@click.option(
    "--scale",
    type=click.FloatRange(min=0.001, max=100),
    default=None,
    help="Size: 1 is about 100,000 customers (default PORTAL_SCALE).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="DuckDB file to write (default: the configured warehouse file).",
)
@click.option("--seed", type=int, default=None, help="Random seed (default PORTAL_SEED).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate_command(scale, out, seed, quiet):
    """Generate the synthetic bank warehouse into a DuckDB file."""
    from datasources.generator import generate_warehouse

    settings = current_app.config["PORTAL_SETTINGS"]
    out = out or settings.warehouse_path
    if out is None:
        raise click.UsageError("the warehouse is not a DuckDB file; pass --out PATH")
    out.parent.mkdir(parents=True, exist_ok=True)
    scale = scale if scale is not None else settings.scale
    seed = seed if seed is not None else settings.seed
    started = time.perf_counter()
    counts = generate_warehouse(out, scale=scale, seed=seed, progress=not quiet)
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    click.echo(
        f"wrote {out}: {len(counts)} tables, {total:,} rows in {elapsed:.1f} s (scale {scale:g}, seed {seed})"
    )


@portal_cli.command("metrics")
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
@click.option("--lang", type=click.Choice(["zh_CN", "en"]), default=None, help="Language of names.")
def metrics_command(as_json, lang):
    """List the metric catalog."""
    catalog = current_app.extensions["metric_catalog"]
    metrics = [m.to_dict(lang) for m in catalog.metrics.values()]
    dimensions = [d.to_dict(lang) for d in catalog.dimensions.values()]
    if as_json:
        click.echo(
            json.dumps({"metrics": metrics, "dimensions": dimensions}, ensure_ascii=False, indent=2)
        )
        return
    for m in catalog.metrics.values():
        click.echo(
            f"{m.id:24} {m.name.zh}  /  {m.name.en}  [{m.unit}]  by: {', '.join(m.dimensions)}"
        )


@portal_cli.command("prepare-demo")
@click.option("--force", is_flag=True, help="Regenerate the warehouse even if it exists.")
def prepare_demo_command(force):
    """Prepare the demo data on first run: the warehouse and the portal store."""
    settings = current_app.config["PORTAL_SETTINGS"]
    path = settings.warehouse_path
    if path is not None and (force or not path.exists()):
        click.echo(f"Generating the demo warehouse (scale {settings.scale:g}) into {path} ...")
        ctx = click.get_current_context()
        ctx.invoke(
            generate_command, scale=settings.scale, out=path, seed=settings.seed, quiet=False
        )
    elif path is not None:
        click.echo(f"Warehouse ready: {path}")
    else:
        click.echo(f"Using the configured warehouse: {settings.warehouse_url}")
    current_app.extensions["warehouse"].close()  # reopen read-only on first request
    ctx = click.get_current_context()
    ctx.invoke(init_command, demo=True)
    from mining.cli import train_missing_models  # the mining pages' models, within ~60 s

    train_missing_models(current_app.extensions["warehouse"], settings.data_dir)
    current_app.extensions["warehouse"].close()


@portal_cli.command("init")
@click.option("--demo", is_flag=True, help="Also add the demo organisation and accounts.")
def init_command(demo):
    """Create or upgrade the portal store (Alembic migrations); seed roles and branches."""
    from portal.services.setup import init_store

    settings = current_app.config["PORTAL_SETTINGS"]
    result = init_store(
        settings.database_url, demo=demo, demo_password=settings.demo_password, content=demo
    )
    created = ", ".join(f"{k} {v}" for k, v in result["created"].items() if v) or "nothing new"
    click.echo(f"Portal store at revision {result['revision']}: {created}")


def register_cli(app: Flask) -> None:
    from mining.cli import mining

    if "mining" not in portal_cli.commands:
        portal_cli.add_command(mining)
    app.cli.add_command(portal_cli)
