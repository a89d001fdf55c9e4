"""Observed reads: what a stage's kernel reads keys its cache, is listed in the run
record, and feeds the handoff's paths check (#13 item 1)."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from click.testing import CliRunner

from mlops_lab import Workspace
from mlops_lab.cli import cli
from mlops_lab.handoff import check_notebook
from mlops_lab.handoff.paths import check_paths
from mlops_lab.handoff.static import parse_cells
from mlops_lab.pipelines import reads as reads_module
from mlops_lab.pipelines.executor import StageJob, execute_stage
from mlops_lab.pipelines.records import RunRecord
from mlops_lab.pipelines.run_options import RunEvent, RunOptions
from mlops_lab.pipelines.runner import Runner
from mlops_lab.pipelines.service import notebook_pipeline
from tests.notebooks import write_notebook


def _run(ws: Workspace, notebook: str) -> tuple[RunRecord, list[RunEvent]]:
    events: list[RunEvent] = []
    spec = notebook_pipeline(ws, notebook)
    record = Runner(ws, spec, RunOptions(jobs=1), on_event=events.append).run()
    return record, [e for e in events if e.stage is not None]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def listening() -> Iterator[int]:
    """A socket listening on 127.0.0.1 (never the internet): its port."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_a_file_the_stage_reads_keys_its_cache(workspace: Workspace) -> None:
    ws = workspace
    (ws.root / "check.txt").write_text("one")
    write_notebook(ws.root / "check.ipynb", None, "text = open('check.txt').read()\nprint(text)")

    first, _ = _run(ws, "check.ipynb")
    stage = first.stages[0]
    assert stage.status == "succeeded"
    assert stage.reads is not None and stage.reads["observed"] is True
    assert stage.reads["files"] == [{"path": "check.txt", "sha256": _sha("one"), "cell": 1}]
    assert stage.reads["network"] == [] and stage.reads["outside"] == []

    cached, _ = _run(ws, "check.ipynb")
    assert (cached.stages[0].status, cached.stages[0].cached_from) == ("cached", first.id)
    assert cached.stages[0].reads == stage.reads  # lineage: what the reused result read

    (ws.root / "check.txt").write_text("two")
    edited, events = _run(ws, "check.ipynb")
    assert edited.stages[0].status == "succeeded"
    why = f"check.txt changed since run {first.id}"
    assert any(e.status == "running" and e.message == why for e in events), events
    assert edited.stages[0].reads is not None
    assert edited.stages[0].reads["rerun_because"] == why
    assert edited.stages[0].reads["files"][0]["sha256"] == _sha("two")

    (ws.root / "check.txt").unlink()
    deleted, events = _run(ws, "check.ipynb")
    stage = deleted.stages[0]
    assert (stage.status, stage.error_name) == ("failed", "FileNotFoundError")  # as papermill
    assert any(
        e.status == "running" and e.message == f"check.txt was deleted since run {edited.id}"
        for e in events
    )
    assert stage.reads is not None and stage.reads["files"][0]["sha256"] is None

    # The run record lists the reads: REST answers (to_dict) and `runs show`.
    assert edited.to_dict()["stages"][0]["reads"]["files"][0]["path"] == "check.txt"
    result = CliRunner().invoke(cli, ["--workspace", str(ws.root), "runs", "show", edited.id])
    assert result.exit_code == 0, result.output
    assert f"read check.txt ({_sha('two')[:12]})" in result.stdout
    assert f"ran again: {why}" in result.stdout


def test_a_probe_invalidates_the_cache_and_written_files_are_not_inputs(
    workspace: Workspace,
) -> None:
    ws = workspace
    (ws.root / "inputs").mkdir()
    (ws.root / "inputs" / "a.csv").write_text("x\n")
    write_notebook(
        ws.root / "probe.ipynb",
        None,
        "import glob, os\nflag = os.path.isfile('flag.txt')\nprint(flag, glob.glob('inputs/*'))",
        "with open('out.txt', 'w') as f:\n    f.write(str(flag))\nprint(open('out.txt').read())",
    )
    absent, _ = _run(ws, "probe.ipynb")
    reads = absent.stages[0].reads
    assert reads is not None
    assert reads["probes"] == [{"path": "flag.txt", "check": "isfile", "exists": False, "cell": 1}]
    assert reads["written"] == [{"path": "out.txt", "cell": 2}]
    assert reads["files"] == []  # out.txt was written first: an output, not an input
    assert [item["path"] for item in reads["listings"]] == ["inputs"]

    again, _ = _run(ws, "probe.ipynb")  # out.txt exists now: still cached
    assert again.stages[0].status == "cached"

    (ws.root / "flag.txt").write_text("")
    present, events = _run(ws, "probe.ipynb")
    assert present.stages[0].status == "succeeded"
    assert any(e.message == f"flag.txt exists (run {absent.id} checked for it)" for e in events)
    assert (ws.root / "out.txt").read_text() == "True"

    (ws.root / "flag.txt").unlink()  # back to what the first run saw: its result holds again
    back, _ = _run(ws, "probe.ipynb")
    assert (back.stages[0].status, back.stages[0].cached_from) == ("cached", absent.id)

    (ws.root / "inputs" / "b.csv").write_text("x\n")  # a new file in a folder it listed
    listed, _ = _run(ws, "probe.ipynb")
    assert listed.stages[0].status == "succeeded"  # the first run's result no longer holds
    assert listed.stages[0].reads is not None
    assert listed.stages[0].reads["listings"][0]["sha256"] != reads["listings"][0]["sha256"]
    assert reads_module.stale_reason(ws.root, reads, absent.id) == (
        f"the listing of inputs changed since run {absent.id}"
    )


def test_the_handoff_reports_undeclared_files_and_network_from_the_clean_run(
    workspace: Workspace, listening: int
) -> None:
    ws = workspace
    (ws.root / "data").mkdir()
    (ws.root / "data" / "local.csv").write_text("x\n1\n")
    write_notebook(
        ws.root / "net.ipynb",
        "rows = 1",
        "import socket\nname = 'data/' + 'local' + '.csv'  # computed: the source check misses it",
        "text = open(name).read()",
        f"socket.create_connection(('127.0.0.1', {listening})).close()",
    )
    handoff = check_notebook(ws, "net.ipynb")
    paths = [f for f in handoff["findings"] if f["check"] == "paths"]
    read = next(f for f in paths if f["details"].get("path") == "data/local.csv")
    assert read["status"] == "warn" and read["cell"] == 3  # the saved notebook's cell, from 1
    assert "the clean run read the file 'data/local.csv'" in read["message"]
    assert "save_dataset" in read["message"]
    network = next(f for f in paths if "network" in f["message"])
    assert network["status"] == "warn" and network["cell"] == 4
    assert f"127.0.0.1:{listening}" in network["message"]
    assert network["details"]["connections"] == [f"127.0.0.1:{listening}"]
    assert not any(f["status"] == "pass" for f in paths)
    stored = ws.catalog.read_value(
        "SELECT reads FROM stage_runs WHERE run_id = ?", [handoff["check_run"]]
    )
    assert json.loads(stored)["files"][0]["path"] == "data/local.csv"


def test_the_handoff_passes_paths_when_the_clean_run_read_nothing_undeclared(
    workspace: Workspace,
) -> None:
    write_notebook(workspace.root / "pure.ipynb", "n = 3", "total = sum(range(n))\nprint(total)")
    handoff = check_notebook(workspace, "pure.ipynb")
    observed = [
        f for f in handoff["findings"] if f["check"] == "paths" and f["details"].get("observed")
    ]
    assert [(f["status"], f["message"]) for f in observed] == [
        (
            "pass",
            "The clean run read no undeclared file, nothing outside the workspace and used "
            "no network.",
        )
    ]


def test_static_paths_probes_are_reads_and_urls_are_network(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "nb.ipynb",
        None,
        "import os, pathlib\nif os.path.isfile('check.txt'):\n    pass",
        "pathlib.Path('cache.pkl').exists()",
        "import pandas as pd\nframe = pd.read_csv('http://bit.ly/some-data')",
        "import urllib.request\nurllib.request.urlopen('https://example.org/x.json')",
    )
    cells = parse_cells(nbformat.read(path, as_version=4)["cells"])
    findings = {f.message.split(")")[0]: f for f in check_paths(cells, path, tmp_path)}
    messages = [f.message for f in findings.values()]
    assert any(m.startswith("Cell 1 (line 2) checks for the file 'check.txt'") for m in messages)
    assert any(m.startswith("Cell 2 (line 1) checks for the file 'cache.pkl'") for m in messages)
    url = [m for m in messages if "bit.ly" in m]
    assert url == [
        m for m in messages if m.startswith("Cell 3 (line 2) reads 'http://bit.ly/some-data' over")
    ]
    assert len(url) == 1 and "the file" not in url[0]
    assert any("'https://example.org/x.json' over the network" in m for m in messages)
    assert all(f.status == "warn" for f in findings.values())


def _cells(path: Path) -> list[tuple[object, object]]:
    cells = nbformat.read(path, as_version=4)["cells"]
    return [(c.get("execution_count"), c.get("outputs")) for c in cells]


def test_the_observer_changes_no_count_output_or_name_and_may_fail_to_load(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_notebook(
        workspace.root / "plain.ipynb",
        "n = 2",
        "x = n * 21\nx",
        "import os\nsorted(k for k in globals() if not k.startswith('_'))",
        "print(len(In), sorted(Out), _)",
        "os.path.exists('nothing.txt')",
    )

    def execute(name: str, *, observe: bool) -> tuple[list[tuple[object, object]], object]:
        folder = workspace.state_dir / name
        job = StageJob(
            workspace_root=str(workspace.root),
            run_id=name,
            stage="s",
            notebook="plain.ipynb",
            parameters={},
            output_path=str(folder / "executed.ipynb"),
            manifest_path=str(folder / "manifest.jsonl"),
            observe_reads=observe,
        )
        outcome = execute_stage(job)
        assert outcome.ok, outcome
        return _cells(folder / "executed.ipynb"), outcome.reads

    plain, no_reads = execute("without", observe=False)
    observed, reads = execute("with", observe=True)
    assert no_reads is None
    assert observed == plain
    assert reads is not None and reads["observed"] is True
    assert reads["probes"][0]["path"] == "nothing.txt"
    # A kernel that cannot import the observer still runs the notebook; nothing is known.
    monkeypatch.setattr(reads_module, "OBSERVER_EXTENSION", "mlops_lab.no_such_observer")
    failed, unknown = execute("failed", observe=True)
    assert failed == plain
    assert unknown is not None and unknown["observed"] is False
    assert reads_module.stale_reason(workspace.root, unknown, "r1") is None


def test_package_scans_of_the_notebooks_folder_are_not_reads_but_its_own_globs_are(
    workspace: Workspace,
) -> None:
    """Entry-point scanners (importlib.metadata, entrypoints via glob and zipfile) list and
    probe every sys.path folder, the notebook's own among them (papermill's import does);
    an empty notebook is still observed."""
    (workspace.root / "a.txt").write_text("a")
    write_notebook(
        workspace.root / "scan.ipynb",
        None,
        "import importlib.metadata, zipfile\n"
        "importlib.metadata.entry_points()\n"
        "zipfile.is_zipfile('')",
        "import glob\nfound = glob.glob('*.txt')",
    )
    write_notebook(workspace.root / "empty.ipynb", None, "")

    def reads(notebook: str) -> Any:
        folder = workspace.state_dir / notebook
        job = StageJob(
            workspace_root=str(workspace.root),
            run_id=notebook,
            stage="s",
            notebook=notebook,
            parameters={},
            output_path=str(folder / "executed.ipynb"),
            manifest_path=str(folder / "manifest.jsonl"),
            observe_reads=True,
        )
        outcome = execute_stage(job)
        assert outcome.ok, outcome
        return outcome.reads

    scanned = reads("scan.ipynb")
    assert scanned["files"] == []  # the folder probed as a zip file is not a file read
    assert [(item["path"], item["cell"]) for item in scanned["listings"]] == [(".", 2)]
    assert reads("empty.ipynb")["observed"] is True
