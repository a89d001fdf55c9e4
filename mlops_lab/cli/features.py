"""``mlops-lab features``: list, show, search and materialize feature views."""

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
            [v["name"], v["version"], v["entity"], v["feature_count"], v["owner"] or "-",
             ",".join(v["tags"]) or "-", v["freshness"] or "-"]  # type: ignore[arg-type]
            for v in views
        ],
    )  # fmt: skip
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
    from mlops_lab.features.registry import list_views

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
    from mlops_lab.features.registry import list_views

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
    from mlops_lab.features.registry import consumers, get_view

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
            [f["name"], f["dtype"], f"{f['null_share']:.1%}", _num(f["min"]), _num(f["max"]),
             _num(f["mean"]), f["distinct"]]
            for f in found.features
        ],
    )  # fmt: skip
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
    ctx: click.Context, views: tuple[str, ...], start: datetime | None, end: datetime | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Copy what is new of VIEWS into the online store (incremental)."""
    from datetime import UTC

    from mlops_lab.features.serving import materialize as run

    workspace = current_workspace(ctx)
    results = [
        run(workspace, view, start=start.replace(tzinfo=UTC) if start else None,
            end=end.replace(tzinfo=UTC) if end else None)
        for view in views
    ]  # fmt: skip
    if as_json:
        emit_json({"materialized": results})
        return
    for result in results:
        click.echo(
            f"{result['view']} v{result['version']}: {result['rows_written']} entities written "
            f"to {result['store']} (fresh up to {result['last_event_at']})"
        )
