"""``mlops-lab features``: list, show, search, materialize and rebuild feature views; check
online/offline consistency."""

from __future__ import annotations

from datetime import datetime

import click

from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import emit_json, json_option, print_table


@click.group()
def features() -> None:
    """Feature views: discover them and materialize them into the online store."""


def _print_views(views: list[dict[str, object]], total: int) -> None:
    if not views:
        click.echo("No feature views.")
        return
    print_table(
        ["view", "version", "entity", "features", "owner", "tags", "fresh up to"],
        [
            [
                v["name"],
                v["version"],
                v["entity"],
                v["feature_count"],
                v["owner"] or "-",
                ",".join(v["tags"]) or "-",  # type: ignore[arg-type]
                v["freshness"] or "-",
            ]
            for v in views
        ],
    )
    if total > len(views):
        click.echo(f"({total} views; use --offset for more)")


@features.command("list")
@click.option("--tag", help="Only views with this tag.")
@click.option("--owner", help="Only views of this owner.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0))
@json_option
@click.pass_context
def list_(
    ctx: click.Context, tag: str | None, owner: str | None, limit: int, offset: int, as_json: bool
) -> None:
    """List feature views (latest versions) with entity, owner, tags and freshness."""
    from mlops_lab.features.queries import list_views

    views, total = list_views(
        current_workspace(ctx), tag=tag, owner=owner, limit=limit, offset=offset
    )
    if as_json:
        emit_json({"views": views, "total": total})
    else:
        _print_views(views, total)


@features.command()
@click.argument("query")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def search(ctx: click.Context, query: str, limit: int, as_json: bool) -> None:
    """Search views and features by name, tag, owner and description text."""
    from mlops_lab.features.queries import list_views

    views, total = list_views(current_workspace(ctx), query=query, limit=limit)
    if as_json:
        emit_json({"views": views, "total": total})
    else:
        _print_views(views, total)


@features.command()
@click.argument("view")
@click.option("--version", type=int, help="A version (default: the latest).")
@json_option
@click.pass_context
def show(ctx: click.Context, view: str, version: int | None, as_json: bool) -> None:
    """Show a view version: definition, features with statistics, and consumers."""
    from mlops_lab.features.queries import consumers, get_view

    workspace = current_workspace(ctx)
    found = get_view(workspace, view, version)
    used = consumers(workspace, view)
    if as_json:
        emit_json({**found.to_dict(histograms=False), "consumers": used})
        return
    definition = found.definition
    tags = ", ".join(found.tags) or "-"
    click.echo(
        f"{found.name} v{found.version}  entity {found.entity}  owner {found.owner or '-'}  "
        f"tags {tags}"
    )
    click.echo(
        f"source {found.source_dataset}@{found.source_version}, timestamp "
        f"{definition.timestamp}, ttl {definition.ttl or '-'}, {found.row_count} rows"
    )
    if found.description:
        click.echo(found.description)
    print_table(
        ["feature", "dtype", "nulls", "min", "max", "mean", "distinct"],
        [
            [
                f["name"],
                f["dtype"],
                f"{f['null_share']:.1%}",
                _num(f["min"]),
                _num(f["max"]),
                _num(f["mean"]),
                f["distinct"],
            ]
            for f in found.features
        ],
    )
    for use in used:
        click.echo(f"used by {use['kind']} {use['id']} ({use['feature']}, v{use['version']})")


def _num(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value if value is not None else "-")


@features.command()
@click.argument("views", nargs=-1, required=True)
@click.option("--start", type=click.DateTime(), help="Re-read from this event time (UTC).")
@click.option("--end", type=click.DateTime(), help="Up to this event time (UTC).")
@json_option
@click.pass_context
def materialize(
    ctx: click.Context,
    views: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
    as_json: bool,
) -> None:
    """Copy what is new of VIEWS into the online store (incremental)."""
    from datetime import UTC

    from mlops_lab.features.serving import materialize as run

    workspace = current_workspace(ctx)
    results = [
        run(
            workspace,
            view,
            start=start.replace(tzinfo=UTC) if start else None,
            end=end.replace(tzinfo=UTC) if end else None,
        )
        for view in views
    ]
    if as_json:
        emit_json({"materialized": results})
        return
    for result in results:
        if "horizon" in result:
            click.echo(
                f"{result['view']} v{result['version']}: {result['rows_written']} events written "
                f"to {result['store']} (held since {result['horizon']}, fresh up to "
                f"{result['last_event_at']})"
            )
            continue
        click.echo(
            f"{result['view']} v{result['version']}: {result['rows_written']} entities written "
            f"to {result['store']} (fresh up to {result['last_event_at']})"
        )


@features.command()
@click.argument("view")
@click.option("--version", type=int, help="A version (default: the latest).")
@json_option
@click.pass_context
def rebuild(ctx: click.Context, view: str, version: int | None, as_json: bool) -> None:
    """Recompute VIEW's table and statistics from its pinned source and definition.

    Window views registered before window values were computed as of the time asked for
    are rebuilt on first use; this does it ahead of time. The old table is kept.
    """
    from mlops_lab.features.registry import rebuild_view

    rebuilt = rebuild_view(current_workspace(ctx), view, version)
    if as_json:
        emit_json(rebuilt.to_dict(histograms=False))
        return
    click.echo(
        f"{rebuilt.name} v{rebuilt.version} rebuilt: {rebuilt.row_count} rows "
        f"({rebuilt.table_format}), artifact {rebuilt.table_artifact[:12]}"
    )


@features.command()
@click.argument("view")
@click.option("--since", type=click.DateTime(), help="Only predictions logged from (UTC).")
@click.option("--pipeline", help="Pipeline an alert is opened for (default: the view's own).")
@json_option
@click.pass_context
def consistency(
    ctx: click.Context, view: str, since: datetime | None, pipeline: str | None, as_json: bool
) -> None:
    """Recompute the VIEW values model servers served, offline as of the logged times.

    Reports the mismatch rate per feature with examples; stores the report and opens an
    alert when any value differs. Exits 1 on a mismatch.
    """
    from datetime import UTC

    from mlops_lab.serving.consistency import check_consistency

    report = check_consistency(
        current_workspace(ctx),
        view,
        since=since.replace(tzinfo=UTC) if since else None,
        alert_pipeline=pipeline,
    )
    if as_json:
        emit_json(report)
    else:
        click.echo(
            f"{view}: {report['rows_checked']} served row(s) checked, "
            f"{report['mismatches']} mismatch(es): {report['verdict']}"
        )
        if report["features"]:
            print_table(
                ["feature", "checked", "mismatches", "rate"],
                [
                    [f["feature"], f["checked"], f["mismatches"], f"{f['rate']:.2%}"]
                    for f in report["features"]
                ],
            )
        for feature in report["features"]:
            for example in feature["examples"]:
                click.echo(
                    f"  {feature['feature']}: {example['entity']} as of {example['as_of']}: "
                    f"online {example['online']!r}, offline {example['offline']!r}"
                )
    if report["mismatches"]:
        ctx.exit(1)
