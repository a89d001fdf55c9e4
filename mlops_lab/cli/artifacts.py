"""``mlops-lab artifacts``: list, show, put, get and verify stored blobs; ``mlops-lab gc``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mlops_lab.artifacts import Artifact, ArtifactStore
from mlops_lab.artifacts.housekeeping import collect_garbage
from mlops_lab.artifacts.store import STALE_TEMP_SECONDS
from mlops_lab.cli._context import current_workspace
from mlops_lab.cli._output import (
    emit_json,
    human_size,
    json_errors_option,
    json_option,
    print_table,
)
from mlops_lab.errors import ArtifactCorruptError, ArtifactNotFoundError


@click.group()
def artifacts() -> None:
    """Content-addressed artifacts stored in the workspace."""


@artifacts.command("list")
@click.option("--limit", default=50, show_default=True, help="Rows per page.")
@click.option("--offset", default=0, show_default=True, help="Rows to skip.")
@json_option
@click.pass_context
def list_(ctx: click.Context, limit: int, offset: int, as_json: bool) -> None:
    """List artifacts, newest first."""
    found = current_workspace(ctx).artifacts.list(limit=limit, offset=offset)
    if as_json:
        emit_json([a.to_dict() for a in found])
        return
    if not found:
        click.echo("No artifacts.")
        return
    print_table(
        ["hash", "size", "media type", "created", "run"],
        [
            [
                a.hash,
                human_size(a.size),
                a.media_type,
                f"{a.created_at:%Y-%m-%d %H:%M:%S}",
                a.run_id or "-",
            ]
            for a in found
        ],
    )


@artifacts.command()
@click.argument("digest", metavar="HASH")
@json_option
@click.pass_context
def show(ctx: click.Context, digest: str, as_json: bool) -> None:
    """Show one artifact's catalog record."""
    artifact = current_workspace(ctx).artifacts.info(digest)
    if as_json:
        emit_json(artifact.to_dict())
        return
    for key, value in artifact.to_dict().items():
        click.echo(f"{key:<11} {value if value is not None else '-'}")


@artifacts.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--media-type", help="Media type (default: guessed from the file name).")
@json_option
@click.pass_context
def put(ctx: click.Context, path: Path, media_type: str | None, as_json: bool) -> None:
    """Store a file; print its hash."""
    artifact = current_workspace(ctx).artifacts.put_file(path, media_type=media_type)
    if as_json:
        emit_json(artifact.to_dict())
    else:
        click.echo(artifact.hash)


@artifacts.command()
@click.argument("digest", metavar="HASH")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@json_errors_option
@click.pass_context
def get(ctx: click.Context, digest: str, output: Path | None) -> None:
    """Write an artifact's bytes (hash verified) to a file or standard output."""
    data = current_workspace(ctx).artifacts.get_bytes(digest)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)


@artifacts.command()
@click.argument("digests", nargs=-1, metavar="[HASH]...")
@json_option
@click.pass_context
def verify(ctx: click.Context, digests: tuple[str, ...], as_json: bool) -> None:
    """Re-hash stored blobs (all of them when no HASH is given); exit 1 on any problem."""
    store = current_workspace(ctx).artifacts
    if not digests:
        digests = tuple(a.hash for a in _all(store))
    problems: dict[str, str] = {}
    for digest in digests:
        try:
            store.verify(digest)
        except (ArtifactCorruptError, ArtifactNotFoundError) as exc:
            problems[digest] = exc.message
    if as_json:
        emit_json({"checked": len(digests), "problems": problems})
    else:
        for digest, message in problems.items():
            click.echo(f"FAIL {digest}: {message}", err=True)
        click.echo(f"Checked {len(digests)} artifact(s), {len(problems)} problem(s).")
    if problems:
        sys.exit(1)


def _all(store: ArtifactStore) -> list[Artifact]:
    page, offset, found = 500, 0, []
    while batch := store.list(limit=page, offset=offset):
        found.extend(batch)
        offset += page
    return found


@click.command()
@click.option(
    "--remove-orphans",
    is_flag=True,
    help="Delete orphan blobs older than --older-than (and older than any running run).",
)
@click.option(
    "--older-than",
    default=STALE_TEMP_SECONDS,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds a temp file or orphan must be unchanged before it is removed.",
)
@json_option
@click.pass_context
def gc(ctx: click.Context, remove_orphans: bool, older_than: float, as_json: bool) -> None:
    """Sweep temp files killed writers left; report blobs no catalog row records.

    Orphan blobs (on disk, not in the catalog) are listed, and deleted with
    --remove-orphans. Catalog rows whose blob is gone are listed as missing.
    """
    report = collect_garbage(
        current_workspace(ctx).artifacts, remove_orphans=remove_orphans, older_than=older_than
    )
    if as_json:
        emit_json(report.to_dict())
        return
    click.echo(f"Removed {report.temp_files_removed} stale temp file(s).")
    removed = [o for o in report.orphans if o.removed]
    kept = [o for o in report.orphans if not o.removed]
    for orphan in kept:
        click.echo(
            f"orphan  {orphan.hash}  {human_size(orphan.size)}  {orphan.age_seconds:.0f} s old"
        )
    click.echo(
        f"{len(report.orphans)} orphan blob(s), {human_size(report.orphan_bytes)}; "
        f"{len(removed)} removed."
        + ("" if remove_orphans or not kept else " Remove them with --remove-orphans.")
    )
    for digest in report.missing:
        click.echo(f"missing {digest}: in the catalog, not on disk", err=True)
