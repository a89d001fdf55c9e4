"""``mlops-lab ingest``: consume a feature view's stream (or every declared one) until
stopped; ``mlops-lab streams``: what is streamed and how its consumers are doing."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_option, print_table


def _seconds(value: str | None, what: str) -> float | None:
    if value is None or value in ("0", "never", "off"):
        return None
    from mlops_lab.features.definitions import parse_duration

    return float(parse_duration(value, what))


@click.command()
@click.argument("views", nargs=-1)
@click.option("--all", "all_views", is_flag=True, help="Every view with a declared stream.")
@click.option(
    "--source",
    help="The stream (default: the view's declared one), e.g. "
    "redis://127.0.0.1:6379/0?stream=transactions or nats://127.0.0.1:4222?subject=tx.",
)
@click.option("--id-column", help="The column that identifies an event (default: its hash).")
@click.option("--max-future", help="Dead-letter events further ahead than this (default 5m).")
@click.option("--consumer", help="This consumer's name in its group (default: host-pid).")
@click.option(
    "--batch",
    default=20_000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Events per fetch, at most: a consumer that is behind catches up in larger batches.",
)
@click.option(
    "--flush-every",
    default="60s",
    show_default=True,
    help="Cut a dataset version of the streamed events this often ('never' to not).",
)
@click.option("--flush-rows", type=click.IntRange(min=1), help="...or after this many events.")
@click.option(
    "--idle-exit",
    type=float,
    help="Stop after this many seconds without an event (default: run until stopped).",
)
@click.option("--quiet", is_flag=True, help="No progress lines.")
@click.pass_context
def ingest(
    ctx: click.Context,
    views: tuple[str, ...],
    all_views: bool,
    source: str | None,
    id_column: str | None,
    max_future: str | None,
    consumer: str | None,
    batch: int,
    flush_every: str,
    flush_rows: int | None,
    idle_exit: float | None,
    quiet: bool,
) -> None:
    """Apply a stream's events to VIEWS' online and offline stores, each once, until stopped.

    Events are acknowledged only once applied: stop it (Ctrl-C, SIGTERM) or kill it at any
    time; a restarted or second consumer takes over what was not acknowledged, and nothing
    is applied twice. Progress goes to the terminal and to `mlops-lab streams`.
    """
    from mlops_lab.errors import InvalidInputError
    from mlops_lab.features.streams import declared_streams
    from mlops_lab.streaming.consumer_process import tune_collector
    from mlops_lab.streaming.ingest import IngestOptions, Ingestor

    workspace = current_workspace(ctx)
    names = list(views)
    if all_views:
        if names:
            raise InvalidInputError("Pass view names or --all, not both.")
        names = sorted(declared_streams(workspace))
        if not names:
            raise InvalidInputError(
                "No view has a declared stream: add a streams: section to mlops_lab.yaml "
                "or pass a view with --source."
            )
    if not names:
        raise InvalidInputError("Name a feature view to ingest into (or pass --all).")
    if source is not None and len(names) > 1:
        raise InvalidInputError("--source names one stream: pass one view with it.")
    options = IngestOptions(
        batch=batch,
        flush_every=_seconds(flush_every, "--flush-every"),
        flush_rows=flush_rows,
    )
    lock = threading.Lock()

    def say(text: str) -> None:
        if not quiet:
            with lock:
                click.echo(text)

    def prefixed(name: str) -> Any:
        if len(names) == 1:
            return say
        return lambda text: say(f"[{name}] {text}")

    ingestors = [
        Ingestor(
            workspace,
            name,
            source=source,
            id_column=id_column,
            max_future=max_future,
            consumer=consumer,
            options=options,
            say=prefixed(name),
        )
        for name in names
    ]

    def stop(_signum: int, _frame: Any) -> None:
        for ingestor in ingestors:
            ingestor.stop()

    tune_collector()  # this process only consumes from here on
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if len(ingestors) == 1:
            ingestors[0].run(idle_exit=idle_exit)
        else:
            threads = [
                threading.Thread(target=i.run, kwargs={"idle_exit": idle_exit}, daemon=True)
                for i in ingestors
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for ingestor in ingestors:
        s = ingestor.stats
        say(
            f"{ingestor.view}: stopped after {s.received:,} events: {s.applied:,} applied, "
            f"{s.duplicates:,} duplicates, {s.dead_letters:,} dead letters, {s.parts:,} parts"
        )


@click.command()
@json_option
@click.pass_context
def streams(ctx: click.Context, as_json: bool) -> None:
    """Streamed feature views: source, consumers, rate, lag, freshness, dead letters."""
    from mlops_lab.features.streams import stream_status

    rows = stream_status(current_workspace(ctx))
    if as_json:
        emit_json({"streams": rows})
        return
    if not rows:
        click.echo("No streamed views (see `mlops-lab ingest --help`).")
        return
    print_table(
        ["view", "source", "running", "applied", "rate/s", "lag", "p99 ms", "dead", "last error"],
        [
            [
                r["view"],
                r["source"],
                r["consumers_running"],
                f"{r['applied']:,}",
                f"{r['rate']:,.0f}",
                "-" if r["lag"] is None else f"{r['lag']:,}",
                "-" if r["freshness_ms"] is None else f"{r['freshness_ms']:.0f}",
                r["dead_letters"],
                (r["last_error"] or "-")[:60],
            ]
            for r in rows
        ],
    )
