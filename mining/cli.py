"""`flask --app app portal mining ...`: evaluate the default pipeline on a CSV, train scenarios.

Register on the portal group with `portal_cli.add_command(mining)`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import click
import pandas as pd
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from threadpoolctl import threadpool_limits

from mining import MiningInputError

mining = AppGroup("mining", help="Data mining: evaluate pipelines on files, train models.")
SAMPLE_BYTES = 64 * 1024
SEPARATORS = {"auto": None, "comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
ENCODINGS = ("utf-8-sig", "gb18030")
DEMO_ORDER = ("retail-churn", "payroll-churn", "potential-value", "transaction-mining")


def _reason(code: str) -> str:
    return {
        "identifier": _("identifier"),
        "free text": _("free text"),
        "constant": _("constant"),
        "date": _("date"),
    }.get(code, code)


def _decode(sample: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            sample.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            if exc.start >= len(sample) - 4:  # a character cut by the sample's end
                return encoding
    raise UnicodeDecodeError("utf-8", sample, 0, 1, "not UTF-8 or GB18030 text")


def read_csv(path, sep: str = "auto") -> pd.DataFrame:
    """Read a CSV file, detecting the separator (`,` `;` tab `|`) and the encoding
    (UTF-8 or GB18030); raise MiningInputError with a one-line reason when it cannot."""
    path = Path(path)
    name = path.name or str(path)

    def fail(reason: str) -> MiningInputError:
        return MiningInputError(_("Cannot read %(file)s: %(reason)s", file=name, reason=reason))

    try:
        with path.open("rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
    except FileNotFoundError:
        raise fail(_("no such file")) from None
    except IsADirectoryError:
        raise fail(_("it is a folder")) from None
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    if not sample.strip():
        raise MiningInputError(_("The file %(file)s is empty.", file=name))
    try:
        if b"\x00" in sample:
            raise UnicodeDecodeError("utf-8", sample, 0, 1, "binary")
        encoding = _decode(sample)
    except UnicodeDecodeError:
        raise fail(_("it is not a text (CSV) file")) from None
    text = sample.decode(encoding, errors="ignore")
    separator = SEPARATORS.get(sep, sep)
    if separator is None:
        try:
            head = "\n".join(text.splitlines()[:20])
            separator = csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
        except csv.Error:
            separator = ","
    try:
        frame = pd.read_csv(path, sep=separator, encoding=encoding, low_memory=False)
    except pd.errors.EmptyDataError:
        raise MiningInputError(_("The file %(file)s is empty.", file=name)) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise fail(str(exc).strip().splitlines()[0]) from None
    if frame.shape[1] < 2:
        raise fail(_("only one column found; check the separator (--sep)"))
    if frame.empty:
        raise MiningInputError(_("The file %(file)s has no data rows.", file=name))
    return frame


@mining.command("evaluate")
@click.option("--csv", "csv_path", required=True, help="The CSV file to evaluate on.")
@click.option("--target", required=True, help="The 0/1 or yes/no column to predict.")
@click.option("--cv", "folds", type=click.IntRange(2, 20), default=5, show_default=True)
@click.option(
    "--sep",
    default="auto",
    show_default=True,
    help="Separator: auto, comma, semicolon, tab, pipe or the character itself.",
)
@click.option("--drop", multiple=True, help="A column to leave out (repeatable), e.g. duration.")
@click.option("--model", type=click.Choice(["gbm", "logistic"]), default="gbm", show_default=True)
def evaluate_command(csv_path, target, folds, sep, drop, model):
    """Print the cross-validated AUC of the default pipeline on any CSV file."""
    from mining.evaluation import cross_validated_auc
    from mining.pipelines import build_pipeline, prepare_table

    try:
        frame = read_csv(csv_path, sep)
        X, y, plan, positive = prepare_table(frame, target, drop=list(drop))
        smallest = int(min(y.sum(), len(y) - y.sum()))
        if smallest < folds:
            raise MiningInputError(
                _(
                    "Too few rows of the rarer class (%(count)d) for %(folds)d folds.",
                    count=smallest,
                    folds=folds,
                )
            )
        with threadpool_limits(limits=1):  # the machine is shared; one thread is steadier
            result = cross_validated_auc(build_pipeline(plan, model), X, y, cv=folds)
    except MiningInputError as exc:
        raise click.ClickException(exc.message) from None
    dropped = [f"{c} ({_reason(r)})" for c, r in plan.dropped.items()]
    dropped += [f"{c} (--drop)" for c in drop]
    if dropped:
        click.echo(_("Dropped columns: %(columns)s", columns=", ".join(dropped)))
    click.echo(
        _(
            "Features: %(numeric)d numeric, %(categorical)d categorical; positive class: "
            "%(positive)s",
            numeric=len(plan.numeric),
            categorical=len(plan.categorical),
            positive=positive,
        )
    )
    rows = f"{len(y):,}"
    click.echo(
        _(
            "%(folds)d-fold AUC: %(auc).3f ± %(std).3f (%(rows)s rows, %(rate).1f%% positive)",
            folds=folds,
            auc=result["auc"],
            std=result["std"],
            rows=rows,
            rate=100.0 * float(y.mean()),
        )
    )


@mining.command("train")
@click.option("--scenario", type=click.Choice(DEMO_ORDER), required=True)
@click.option("--quiet", is_flag=True, help="No progress lines.")
def train_command(scenario, quiet):
    """Train a scenario on the warehouse, save a new model version, print hold-out results."""
    from datasources.relations import FullAccess
    from mining.training import train_scenario
    from portal.errors import PortalError

    warehouse = current_app.extensions["warehouse"]
    data_dir = current_app.config["PORTAL_SETTINGS"].data_dir

    def progress(fraction: float, message) -> None:
        if not quiet:
            click.echo(f"[{fraction:4.0%}] {message}")

    try:
        meta = train_scenario(warehouse, FullAccess(warehouse), scenario, data_dir, progress)
    except PortalError as exc:
        raise click.ClickException(exc.message) from None
    metrics, data = meta["metrics"], meta["training_data"]
    test_rows, train_rows = f"{data['test']['rows']:,}", f"{data['train']['rows']:,}"
    numbers = {
        "auc": metrics["auc"],
        "baseline": meta["baseline"]["auc"],
        "rows": test_rows,
        "cutoff": data["test_cutoff"],
        "rate": 100.0 * data["test"]["positive_rate"],
        "lift": metrics["top_decile_lift"],
        "capture": 100.0 * metrics["top_decile_capture"],
        "precision": metrics["precision_at_10pct"],
    }
    churn = scenario in ("retail-churn", "payroll-churn")
    if churn:
        click.echo(
            _(
                "Hold-out AUC: %(auc).3f (logistic baseline %(baseline).3f) on %(rows)s "
                "customers at %(cutoff)s, %(rate).1f%% churned",
                **numbers,
            )
        )
        click.echo(
            _(
                "Top-decile lift: %(lift).1f (captures %(capture).0f%% of churners); "
                "precision in the top 10%%: %(precision).2f",
                **numbers,
            )
        )
    else:
        click.echo(
            _(
                "Hold-out AUC: %(auc).3f (logistic baseline %(baseline).3f) on %(rows)s "
                "customers at %(cutoff)s, %(rate).1f%% positive",
                **numbers,
            )
        )
        click.echo(
            _(
                "Top-decile lift: %(lift).1f (captures %(capture).0f%% of the positives); "
                "precision in the top 10%%: %(precision).2f",
                **numbers,
            )
        )
    click.echo(
        _(
            "Trained in %(seconds).1f s on %(rows)s rows (cut-offs %(cutoffs)s); saved as "
            "%(scenario)s v%(version)d",
            seconds=meta["elapsed_s"],
            rows=train_rows,
            cutoffs=", ".join(data["train_cutoffs"]),
            scenario=scenario,
            version=meta["version"],
        )
    )


def train_missing_models(warehouse, data_dir, budget_s: float = 40.0, echo=click.echo) -> list:
    """Train the scenarios that have no model yet (for the demo), in order, starting no new
    one after `budget_s` seconds; return the metas saved. A failure is reported, not raised:
    the pages offer a Retrain button."""
    import time

    from datasources.relations import FullAccess
    from mining.registry import ModelRegistry
    from mining.training import train_scenario
    from portal.errors import PortalError

    registry = ModelRegistry(data_dir)
    started, saved = time.perf_counter(), []
    for scenario in DEMO_ORDER:
        if registry.latest(scenario) is not None:
            continue
        if time.perf_counter() - started > budget_s:
            echo(f"Skipped training {scenario} (time budget); use Retrain on its page.")
            continue
        try:
            meta = train_scenario(warehouse, FullAccess(warehouse), scenario, data_dir)
        except PortalError as exc:
            echo(f"Could not train {scenario}: {exc.message}")
            continue
        saved.append(meta)
        echo(
            f"Trained {scenario} v{meta['version']}: hold-out AUC {meta['metrics']['auc']:.3f} "
            f"in {meta['elapsed_s']:.0f} s"
        )
    return saved
