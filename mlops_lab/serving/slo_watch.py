"""Watch running model servers against the project's serving SLO (CM of system health).

``mlops-lab slo`` picks its servers (:func:`slo_targets`: one URL, one recorded
deployment, or every running one), its bounds (:func:`slo_bounds`: the project
definition's ``serving:``, explicit arguments over it), then scrapes each server's
``/metrics`` every few seconds and judges the sliding window
(:mod:`mlops_lab.serving.slo` computes the numbers).

A breach opens an alert of kind ``slo`` for the pipeline that trained the served
version (``serving`` when none did), one per rule and deployment: later breaches
update it (``occurrences``). Its data names the rule (``project.serving.p99_ms``
or ``project.serving.error_rate``), the measured value, the bound and where it was
stated, the window, the requests counted, and the deployment. ``mlops-lab ct``
does not retrain on these alerts: retraining does not make a server faster.

Each check is also kept as the deployment's latest, in
``.mlops_lab/slo/<deployment>.json`` (written atomically), read back by
:func:`latest_slo_checks` for the lifecycle view.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mlops_lab.alerts import alert_key, raise_alert
from mlops_lab.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ServerUnreachableError,
)
from mlops_lab.serving.slo import (
    ALL,
    MIN_REQUESTS,
    SloBounds,
    SloWatch,
    judge,
    parse_metrics,
    window_stats,
)
from mlops_lab.workspace import Workspace

__all__ = [
    "FALLBACK_PIPELINE",
    "SloChecker",
    "SloTarget",
    "latest_slo_checks",
    "slo_bounds",
    "slo_targets",
]

FALLBACK_PIPELINE = "serving"  # the alert's pipeline when no run trained the served model


@dataclass(kw_only=True)
class SloTarget:
    """One model server: its URL, and its deployment row when the catalog records it."""

    url: str
    deployment_id: str | None = None
    ref: str | None = None
    model: str | None = None  # the champion's name and version, from /metadata
    version: int | None = None
    pipeline: str | None = None

    @property
    def key(self) -> str:
        """The deployment id, else the URL made a file name."""
        return self.deployment_id or re.sub(r"[^A-Za-z0-9]+", "_", self.url).strip("_")


def slo_targets(
    workspace: Workspace, *, url: str | None = None, deployment: str | None = None
) -> list[SloTarget]:
    """The server at ``url``, the deployment ``deployment``, or every running one."""
    if url and deployment:
        raise InvalidInputError("Give --url or --deployment, not both.")
    if url:
        url = url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise InvalidInputError(f"{url!r} is not an http:// or https:// URL.")
        rows = workspace.catalog.read(
            "SELECT id, ref FROM deployments WHERE url = ? AND status = 'running' "
            "ORDER BY started_at DESC LIMIT 1",
            [url],
        )
        return [
            SloTarget(
                url=url,
                deployment_id=rows[0][0] if rows else None,
                ref=rows[0][1] if rows else None,
            )
        ]
    if deployment:
        rows = workspace.catalog.read(
            "SELECT id, ref, url, status FROM deployments WHERE id = ?", [deployment]
        )
        if not rows:
            raise NotFoundError(
                f"No deployment {deployment!r}. The running ones: `mlops-lab slo` without "
                "--deployment checks them all."
            )
        if rows[0][3] != "running":
            raise ConflictError(f"Deployment {deployment} is stopped: nothing to check.")
        return [SloTarget(deployment_id=rows[0][0], ref=rows[0][1], url=rows[0][2])]
    rows = workspace.catalog.read(
        "SELECT id, ref, url FROM deployments WHERE status = 'running' ORDER BY started_at"
    )
    if not rows:
        raise NotFoundError(
            "No running deployment is recorded in this workspace: start one with "
            "`mlops-lab serve NAME@ALIAS`, or give the server's --url."
        )
    return [SloTarget(deployment_id=i, ref=r, url=u) for i, r, u in rows]


def slo_bounds(
    workspace: Workspace,
    *,
    p99_ms: float | None = None,
    error_rate: float | None = None,
    window_s: float | None = None,
) -> SloBounds:
    """The project's serving SLO, explicit arguments over it."""
    project = workspace.config.project
    bounds = SloBounds.resolve(
        project.serving if project else None,
        p99_ms=p99_ms,
        error_rate=error_rate,
        window_s=window_s,
    )
    if bounds is None:
        raise InvalidInputError(
            "No serving SLO to check: add `serving: {p99_ms: 20, error_rate: 0.01, window: "
            "60s}` to the project: section of mlops_lab.yaml (your numbers), or pass "
            "--p99-ms / --error-rate."
        )
    return bounds


def _get(url: str, timeout: float = 2.0) -> str:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return str(response.read().decode())
    except (OSError, urllib.error.URLError) as exc:
        raise ServerUnreachableError(f"The model server at {url} does not answer: {exc}.") from exc


def _pipeline_of(workspace: Workspace, model: str | None, version: int | None) -> str | None:
    if model is None or version is None:
        return None
    value = workspace.catalog.read_value(
        "SELECT r.pipeline FROM model_versions v JOIN runs r ON r.id = v.run_id "
        "WHERE v.name = ? AND v.version = ?",
        [model, version],
    )
    return str(value) if value else None


def _now_iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


@dataclass
class SloChecker:
    """Scrapes its targets and judges each one's window; opens or updates alerts."""

    workspace: Workspace
    targets: list[SloTarget]
    bounds: SloBounds
    min_requests: int = MIN_REQUESTS
    clock: Callable[[], float] = time.time
    _watches: dict[str, SloWatch] = field(default_factory=dict, init=False, repr=False)
    _errors: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def scrape(self) -> None:
        """Read every target's ``/metrics`` once (an unreachable one is noted)."""
        for target in self.targets:
            watch = self._watches.setdefault(target.key, SloWatch(self.bounds.window_s))
            try:
                if target.model is None:
                    self._describe(target)
                text = _get(target.url + "/metrics")
            except (ServerUnreachableError, ValueError) as exc:  # ValueError: not JSON
                self._errors[target.key] = str(exc)
                continue
            self._errors.pop(target.key, None)
            watch.add(parse_metrics(text, at=self.clock()))

    def ready(self) -> bool:
        """Whether every reachable target has a window to judge."""
        return all(
            self._watches[t.key].window() is not None
            for t in self.targets
            if t.key in self._watches and t.key not in self._errors
        )

    def _describe(self, target: SloTarget) -> None:
        served = json.loads(_get(target.url + "/metadata")).get("served", {})
        champion = served.get("champion") or {}
        target.model, target.version = champion.get("model"), champion.get("version")
        target.ref = target.ref or champion.get("ref")
        target.pipeline = _pipeline_of(self.workspace, target.model, target.version)

    def check(self) -> list[dict[str, Any]]:
        """Judge each target's window now: one result per target (see :meth:`_check`)."""
        return [self._check(target) for target in self.targets]

    def _check(self, target: SloTarget) -> dict[str, Any]:
        result: dict[str, Any] = {
            "deployment_id": target.deployment_id,
            "url": target.url,
            "ref": target.ref,
            "model": target.model,
            "version": target.version,
            "pipeline": target.pipeline or FALLBACK_PIPELINE,
            "checked_at": _now_iso(self.clock()),
            "window_s": self.bounds.window_s,
            "min_requests": self.min_requests,
            "alerts": [],
        }
        pair = self._watches[target.key].window() if target.key in self._watches else None
        if target.key in self._errors:
            result.update(status="unreachable", error=self._errors[target.key])
        elif pair is None:
            result.update(status="waiting", error="one scrape so far: judged at the next")
        else:
            baseline, newest = pair
            stats = window_stats(baseline, newest)
            verdicts = judge(stats, self.bounds, min_requests=self.min_requests)
            covered = newest.at - baseline.at
            result.update(
                covered_s=round(covered, 3),
                since="server start" if baseline.is_start else _now_iso(baseline.at),
                stats=stats,
                verdicts=verdicts,
                status=_status(verdicts),
            )
            for verdict in verdicts:
                if verdict["verdict"] == "breach":
                    result["alerts"].append(self._alert(target, verdict, stats, covered))
        self._keep(target, result)
        return result

    def _alert(
        self,
        target: SloTarget,
        verdict: dict[str, Any],
        stats: dict[str, dict[str, Any]],
        covered: float,
    ) -> str:
        pipeline = target.pipeline or FALLBACK_PIPELINE
        where = target.deployment_id or target.url
        scopes = verdict["breached_in"]
        value = stats[scopes[0]][verdict["metric"]] if scopes else verdict["value"]
        shown = (
            f"p99 {value:.1f} ms > {verdict['bound']:g} ms"
            if verdict["metric"] == "p99_ms"
            else f"error rate {value:.2%} > {verdict['bound']:.2%}"
        )
        message = (
            f"{target.ref or target.url} ({where}): {shown} over the last "
            f"{self.bounds.window_s:g}s ({', '.join(scopes)}; {verdict['rule']})"
        )
        data = {
            "rule": verdict["rule"],
            "metric": verdict["metric"],
            "value": value,
            "bound": verdict["bound"],
            "bound_from": verdict["bound_from"],
            "window_s": self.bounds.window_s,
            "covered_s": round(covered, 3),
            "requests": stats[ALL]["requests"],
            "breached_in": scopes,
            "by_variant": stats,
            "deployment_id": target.deployment_id,
            "url": target.url,
            "ref": target.ref,
            "model": target.model,
            "version": target.version,
        }
        key = alert_key("slo", pipeline, where, verdict["rule"])
        return self.workspace.catalog.transaction(
            lambda con: raise_alert(
                con, pipeline=pipeline, kind="slo", message=message, data=data, key=key
            )
        )

    def _keep(self, target: SloTarget, result: dict[str, Any]) -> None:
        folder = self.workspace.state_dir / "slo"
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w") as out:
                json.dump(result, out, indent=1, default=str)
            os.replace(temporary, folder / f"{target.key}.json")
        except BaseException:
            os.unlink(temporary)
            raise

    def run(
        self,
        *,
        every_s: float,
        once: bool,
        report: Callable[[dict[str, Any]], None],
        sleep: Callable[[float], None] = time.sleep,
    ) -> list[dict[str, Any]]:
        """Scrape and judge every ``every_s`` seconds, calling ``report`` with each
        result, until interrupted; with ``once``, judge one window and return it (a
        second scrape ``every_s`` later when the first gives none)."""
        self.scrape()
        if once:
            if not self.ready():
                sleep(every_s)
                self.scrape()
            results = self.check()
            for result in results:
                report(result)
            return results
        while True:
            for result in self.check():
                report(result)
            sleep(every_s)
            self.scrape()


def _status(verdicts: list[dict[str, Any]]) -> str:
    found = {v["verdict"] for v in verdicts}
    for status in ("breach", "unknown", "ok"):
        if status in found:
            return status
    return "not enough traffic"


def latest_slo_checks(workspace: Workspace) -> list[dict[str, Any]]:
    """The latest check of each server watched in this workspace, newest first."""
    folder = workspace.state_dir / "slo"
    checks = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            checks.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # a file being replaced right now, or damaged: the next check rewrites it
    return sorted(checks, key=lambda c: str(c.get("checked_at")), reverse=True)
