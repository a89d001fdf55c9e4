"""Check every notebook of a folder for handoff, in a scratch workspace, and print a table.

    .venv/bin/python scripts/handoff_folder.py FOLDER [--timeout 60] [--repeat 2] [--out F.json]

The notebooks (and the other files of FOLDER, which they may read) are copied
into a new workspace under a temporary folder, in a sub-folder named after
FOLDER; each is checked with `mlops-lab handoff --json --no-write-pipeline`.
The table gives each notebook's status, whether its clean run ran, and its
findings that did not pass (check=status); --out keeps every answer as JSON.
Used on papermill's own test notebooks for issue #13 (they are not vendored here).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _check(workspace: Path, notebook: str, options: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "mlops_lab", "--workspace", str(workspace), "handoff"]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, notebook, "--json", "--no-write-pipeline", *options],
        capture_output=True,
        text=True,
        cwd=workspace,
        check=False,
    )
    try:
        answer: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        answer = {"error": {"message": (done.stderr or done.stdout).strip()[-300:]}}
    answer["seconds"] = round(time.perf_counter() - started, 1)
    return answer


def _ran(answer: dict[str, Any]) -> bool:
    """Whether a clean run was started (not refused before it: kernel, imports, parameters)."""
    return any(
        f["check"] == "clean_run" and not f["message"].startswith(("Not run", "The notebook's"))
        for f in answer.get("findings", ())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--timeout", default="60", help="seconds for each clean run")
    parser.add_argument("--repeat", default="2", help="clean runs per notebook")
    parser.add_argument("--out", type=Path, help="write every answer to this JSON file")
    args = parser.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="handoff-folder-"))
    subprocess.run(
        [sys.executable, "-m", "mlops_lab", "init", str(workspace), "--name", "folder"],
        check=True,
        capture_output=True,
    )
    target = workspace / args.folder.resolve().name
    shutil.copytree(args.folder, target)
    options = ["--timeout", args.timeout, "--repeat", args.repeat]
    answers = {}
    print(f"{'notebook':34} {'status':8} {'ran':4} {'s':>5}  findings not passed")
    for path in sorted(target.rglob("*.ipynb")):
        name = path.relative_to(workspace).as_posix()
        answer = answers[name] = _check(workspace, name, options)
        if "findings" in answer:
            listed = " ".join(
                f"{f['check']}={f['status']}" for f in answer["findings"] if f["status"] != "pass"
            )
            status, ran = answer["status"], "yes" if _ran(answer) else "no"
        else:
            listed, status, ran = answer["error"].get("message", "")[:90], "error", "-"
        print(f"{path.name:34} {status:8} {ran:4} {answer['seconds']:5}  {listed}", flush=True)
    statuses = [a.get("status", "error") for a in answers.values()]
    print(
        f"\n{len(answers)} notebooks: "
        + ", ".join(f"{statuses.count(s)} {s}" for s in ("ready", "failing", "error"))
        + f"; a clean run started for {sum(_ran(a) for a in answers.values())}"
        + f" (workspace {workspace})"
    )
    if args.out:
        args.out.write_text(json.dumps(answers, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
