"""What the Features panel shows: one view's detail, and the diff of two versions."""

from __future__ import annotations

import difflib
import json
from typing import Any

from mlops_lab.datachecks import summaries, version_checks
from mlops_lab.features.queries import consumers, get_entity, get_view, view_versions
from mlops_lab.features.streams import stream_status
from mlops_lab.workspace import Workspace

__all__ = ["diff_versions", "view_detail"]


def view_detail(workspace: Workspace, name: str, version: int | None = None) -> dict[str, Any]:
    """A view version with its features (statistics and histograms), versions, entity,
    consumers and freshness, plus a ready code snippet loading it into a training frame,
    and its stream's ingest status (null when not streamed)."""
    view = get_view(workspace, name, version)
    entity = get_entity(workspace, view.entity)
    fresh = workspace.catalog.read_value(
        "SELECT max(last_event_at) FROM materializations WHERE view = ?", [name]
    )
    versions = view_versions(workspace, name)
    checked = summaries(workspace.catalog, [(v.source_dataset, v.source_version) for v in versions])
    refs = "".join(f'    "{view.name}:{f}",\n' for f in view.feature_names)
    snippet = (
        "import mlops_lab\n\n"
        "store = mlops_lab.open_workspace().features\n"
        f"# entity_df: one row per example, with {', '.join(entity.join_keys)} and "
        "event_timestamp\n"
        f"features = [\n{refs}]\n"
        "frame = store.get_training_frame(entity_df, features)"
    )
    return {
        **view.to_dict(),
        "entity": {
            "name": entity.name,
            "join_keys": list(entity.join_keys),
            "description": entity.description,
        },
        "versions": [
            {
                "version": v.version,
                "created_at": v.created_at.isoformat(),
                "digest": v.digest,
                "source": {
                    "dataset": v.source_dataset,
                    "version": v.source_version,
                    "checks": checked.get((v.source_dataset, v.source_version)),
                },
            }
            for v in versions
        ],
        "consumers": consumers(workspace, name),
        "freshness": fresh.isoformat() if fresh else None,
        "snippet": snippet,
        "stream": next((s for s in stream_status(workspace) if s["view"] == name), None),
        "source_checks": version_checks(workspace, view.source_dataset, view.source_version),
    }


def diff_versions(workspace: Workspace, name: str, a: int, b: int) -> dict[str, Any]:
    """Definition diff (unified, JSON lines) and feature changes from version a to b."""
    first, second = get_view(workspace, name, a), get_view(workspace, name, b)
    left = json.dumps(first.definition.to_dict(), indent=2, sort_keys=True).splitlines()
    right = json.dumps(second.definition.to_dict(), indent=2, sort_keys=True).splitlines()
    before = {f["name"]: f for f in first.features}
    after = {f["name"]: f for f in second.features}
    changed = [
        {
            "name": n,
            "a": {"dtype": before[n]["dtype"], "mean": before[n]["mean"]},
            "b": {"dtype": after[n]["dtype"], "mean": after[n]["mean"]},
        }
        for n in before.keys() & after.keys()
        if (before[n]["dtype"], before[n]["mean"]) != (after[n]["dtype"], after[n]["mean"])
    ]
    return {
        "name": name,
        "a": a,
        "b": b,
        "definition": list(difflib.unified_diff(left, right, f"v{a}", f"v{b}", lineterm="")),
        "features": {
            "added": sorted(after.keys() - before.keys()),
            "removed": sorted(before.keys() - after.keys()),
            "changed": sorted(changed, key=lambda c: c["name"]),
        },
        "source": {
            "a": {"dataset": first.source_dataset, "version": first.source_version},
            "b": {"dataset": second.source_dataset, "version": second.source_version},
        },
    }
