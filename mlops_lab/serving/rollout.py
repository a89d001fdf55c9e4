"""Progressive rollout: a running server's split moved step by step, each step judged.

``mlops-lab rollout churn --to challenger`` finds the running deployment that serves
``churn@challenger`` beside its champion (``churn@champion``) and records the rollout
(:mod:`mlops_lab.serving.rollout_plan`); the controller here then, for each step (5%, 25%,
50%, 100% by default):

1. sets the server's split to the step's share (its ``POST /rollout``);
2. scrapes ``/metrics`` at the window's start, waits ``interval`` seconds (reading
   pause / resume / abort requests every 0.1 s), scrapes again;
3. analyses that window's traffic only and decides continue, hold or rollback
   (:mod:`mlops_lab.serving.rollout_analysis`), recording the decision with its
   numbers (:mod:`mlops_lab.serving.rollout_store`). The prediction drift compares
   the window's challenger predictions with the champion's of the same window, or
   of the latest step that had enough of them (at 100%): scores, unlike latencies,
   do not depend on the load.

A hold judges the same step again over a new window; more than ``max_holds`` holds in
a row roll back. A rollback sets the split to 0 and leaves the alias where it was. When
the last step (100%) passes, the champion alias moves to the challenger's version
(:func:`mlops_lab.models.promote`, the rollout named in the reason), the controller
waits until the server serves it as champion, and sets the split back to 0.

A pause keeps the split where it is and stops judging; a resume starts the step's
window over. An abort rolls back. Ctrl-C on the controller aborts too: a rollout
never stays half-way with nobody watching it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from mlops_lab.errors import ConflictError, MlopsLabError, NotFoundError
from mlops_lab.models import promote
from mlops_lab.serving.deployments import fetch_server, get_deployment, set_split
from mlops_lab.serving.predlog import read_predictions
from mlops_lab.serving.rollout_analysis import (
    RolloutBounds,
    ab_on_outcomes,
    decide,
    prediction_drift,
    variant_numbers,
)
from mlops_lab.serving.rollout_store import (
    get_rollout,
    record_decision,
    take_control,
    update_rollout,
)
from mlops_lab.serving.served_rows import served_training_rows
from mlops_lab.serving.slo import Scrape, parse_metrics, window_stats
from mlops_lab.workspace import Workspace

__all__ = ["RolloutController"]

_POLL_S = 0.1
_SWAP_TIMEOUT_S = 30.0

Report = Callable[[dict[str, Any]], None]


class _Stop(Exception):
    """An abort request, or Ctrl-C: roll back, recording who asked."""

    def __init__(self, by: str) -> None:
        super().__init__(by)
        self.by = by


class RolloutController:
    """Drives one recorded rollout to its end (see the module docstring)."""

    def __init__(
        self,
        workspace: Workspace,
        rollout_id: str,
        *,
        report: Report | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.workspace = workspace
        self.rollout = get_rollout(workspace, rollout_id)
        self.id = rollout_id
        self.report = report or (lambda _decision: None)
        self.sleep = sleep
        bounds = dict(self.rollout["bounds"])
        self.bounds = RolloutBounds(**bounds)
        self.steps: list[float] = [float(s) for s in self.rollout["steps"]]
        self.split = 0.0
        self._generation = -1
        self._by = ""  # who asked for the latest pause, resume or abort
        self._reference_predictions: pd.Series | None = None
        log = get_deployment(workspace, self.rollout["deployment_id"]).get("log_folder")
        self._log_folder = log

    # -- the loop ---------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Run every step; returns the rollout as recorded at its end."""
        update_rollout(self.workspace, self.id, pid=os.getpid())  # this process drives it
        try:
            self._run()
        except _Stop as stop:
            self._roll_back("abort", f"aborted by {stop.by}", "aborted")
        except KeyboardInterrupt:
            self._roll_back("abort", "aborted: the controller was interrupted", "aborted")
        except Exception as exc:  # a server gone, a catalog error: back to 0, said why
            self._roll_back("fail", f"the controller stopped: {exc}", "failed")
            raise
        return get_rollout(self.workspace, self.id)

    def _run(self) -> None:
        index, holds = 0, 0
        while index < len(self.steps):
            share = self.steps[index]
            self._set_split(share, f"rollout {self.id}: step {index + 1}/{len(self.steps)}")
            update_rollout(
                self.workspace, self.id, state="running", step_index=index, split=share, holds=holds
            )
            judged = self._step(index, share)
            if judged is None:  # paused and resumed: the step's window starts over
                continue
            verdict, analysis, window = judged
            decision = verdict["decision"]
            if decision == "hold":
                holds += 1
                if holds > self.bounds.max_holds:
                    verdict = {
                        **verdict,
                        "decision": "rollback",
                        "reason": f"{holds} holds in a row at {share:.0%} (most "
                        f"{self.bounds.max_holds}): {verdict['reason']}",
                    }
            self._decide(index, share, verdict, analysis, window)
            if verdict["decision"] == "rollback":
                self._set_split(0.0, f"rollout {self.id}: rolled back")
                update_rollout(
                    self.workspace,
                    self.id,
                    state="rolled_back",
                    split=0.0,
                    reason=verdict["reason"],
                    holds=holds,
                )
                return
            if verdict["decision"] == "continue":
                index, holds = index + 1, 0
        self._promote()

    def _step(
        self, index: int, share: float
    ) -> tuple[dict[str, Any], dict[str, Any], tuple[float, float]] | None:
        """Wait one interval and judge it; None when a pause interrupted it."""
        start, started = self._scrape(), time.time()
        deadline = time.monotonic() + float(self.rollout["interval_s"])
        while (left := deadline - time.monotonic()) > 0:
            if self._poll() == "pause":
                self._paused(index, share)
                return None
            self.sleep(min(_POLL_S, left))
        end, ended = self._scrape(), time.time()
        analysis = self._analyse(start, end, started, ended)
        verdict = decide(
            challenger=analysis["variants"]["challenger"],
            champion=analysis["variants"]["champion"],
            drift=analysis["drift"],
            ab=analysis["ab"],
            bounds=self.bounds,
        )
        analysis["checks"] = verdict.pop("checks")
        return verdict, analysis, (started, ended)

    def _paused(self, index: int, share: float) -> None:
        by = self._by
        update_rollout(self.workspace, self.id, state="paused")
        self._decide(index, share, {"decision": "pause", "reason": f"paused by {by}"}, None, None)
        while True:
            if self._poll() == "resume":
                self._decide(
                    index,
                    share,
                    {"decision": "resume", "reason": f"resumed by {self._by}"},
                    None,
                    None,
                )
                return
            self.sleep(_POLL_S)

    def _poll(self) -> str | None:
        """A pending pause or resume; an abort raises :class:`_Stop`."""
        generation = self.workspace.catalog.generation()
        if generation == self._generation:
            return None
        self._generation = generation
        pending = self.workspace.catalog.read_value(
            "SELECT control FROM rollouts WHERE id = ?", [self.id]
        )
        if pending is None:
            return None
        taken = take_control(self.workspace, self.id)
        if taken is None:
            return None
        action, self._by = taken
        if action == "abort":
            raise _Stop(self._by)
        return action

    # -- analysis -----------------------------------------------------------------

    def _scrape(self) -> Scrape:
        text = fetch_server(self.rollout["url"] + "/metrics", timeout=5.0)
        return parse_metrics(str(text), at=time.time())

    def _analyse(self, start: Scrape, end: Scrape, started: float, ended: float) -> dict[str, Any]:
        stats = window_stats(start, end)
        champion = variant_numbers(stats.get("champion"))
        challenger = variant_numbers(stats.get("challenger"))
        predictions = self._predictions(started, ended)
        drift: dict[str, Any] = {"status": "no prediction log"}
        if predictions is not None:
            own = predictions[predictions.variant == "champion"].prediction
            if own.size >= self.bounds.min_requests:
                self._reference_predictions = own
            reference = self._reference_predictions
            drift = prediction_drift(
                reference if reference is not None else own,
                predictions[predictions.variant == "challenger"].prediction,
                min_rows=self.bounds.min_requests,
            )
        return {
            "window_s": round(ended - started, 3),
            "variants": {"champion": champion, "challenger": challenger},
            "drift": drift,
            "ab": self._ab(predictions, started),
        }

    def _predictions(self, started: float, ended: float) -> pd.DataFrame | None:
        if not self._log_folder:
            return None
        self.sleep(0.3)  # the log flushes every 0.25 s: the window's last requests land
        frame: pd.DataFrame = read_predictions(
            self.workspace.state_dir / "predictions", since=started
        )
        if frame.empty:
            return frame
        until = pd.Timestamp(ended, unit="s", tz="UTC")
        kept: pd.DataFrame = frame[
            (frame.model == self.rollout["model"]) & (frame.logged_at <= until)
        ]
        return kept

    def _ab(self, predictions: pd.DataFrame | None, started: float) -> dict[str, Any]:
        outcomes = self.rollout["outcomes"]
        if not outcomes:
            return {"status": "no outcomes yet", "detail": "no --outcomes dataset given"}
        if predictions is None or predictions.empty:
            return {"status": "no outcomes yet", "detail": "no predictions logged in the step"}
        label = outcomes["label"]
        try:
            arrived = served_training_rows(
                self.workspace,
                self.rollout["model"],
                outcomes=outcomes["dataset"],
                label=label,
                since=started,
            )
        except NotFoundError:
            return {"status": "no outcomes yet", "detail": f"no dataset {outcomes['dataset']}"}
        joined = predictions[["request_id", "variant", "prediction"]].merge(
            arrived[["request_id", label]], on="request_id"
        )
        return ab_on_outcomes(joined, label, min_rows=self.bounds.min_requests)

    # -- effects ----------------------------------------------------------------------

    def _set_split(self, share: float, reason: str) -> None:
        set_split(self.workspace, self.rollout["deployment_id"], share, reason=reason)
        self.split = share

    def _decide(
        self,
        index: int,
        share: float,
        verdict: dict[str, Any],
        analysis: dict[str, Any] | None,
        window: tuple[float, float] | None,
    ) -> None:
        recorded = record_decision(
            self.workspace,
            self.id,
            step_index=index,
            split=share,
            decision=verdict["decision"],
            reason=verdict["reason"],
            analysis=analysis,
            window=window,
        )
        self.report(recorded)

    def _promote(self) -> None:
        model, alias = self.rollout["model"], self.rollout["alias"]
        version, last = int(self.rollout["to_version"]), len(self.steps) - 1
        moved = promote(
            self.workspace,
            model,
            version,
            alias=alias,
            reason=f"rollout {self.id}: {len(self.steps)} steps passed, up to 100% of traffic",
            by="mlops-lab rollout",
        )
        self._await_champion(version)
        self._set_split(0.0, f"rollout {self.id}: v{version} is the champion")
        reason = f"{model}@{alias} moved from v{moved['from']} to v{version}"
        self._decide(last, 0.0, {"decision": "promote", "reason": reason}, None, None)
        update_rollout(self.workspace, self.id, state="completed", split=0.0, reason=reason)

    def _await_champion(self, version: int) -> None:
        """Until the server serves ``version`` as its champion (it follows the alias)."""
        deadline = time.monotonic() + _SWAP_TIMEOUT_S
        while time.monotonic() < deadline:
            served = fetch_server(self.rollout["url"] + "/metadata", timeout=5.0)["served"]
            if served["champion"]["version"] == version:
                return
            self.sleep(_POLL_S)
        raise ConflictError(
            f"The server at {self.rollout['url']} still serves v"
            f"{served['champion']['version']} as champion {_SWAP_TIMEOUT_S:g}s after the "
            f"alias moved to v{version}; the challenger keeps 100% until it does."
        )

    def _roll_back(self, decision: str, reason: str, state: str) -> None:
        index = int(get_rollout(self.workspace, self.id)["step_index"])
        try:
            self._set_split(0.0, f"rollout {self.id}: {decision}")
        except MlopsLabError as exc:
            reason = f"{reason}; the split could not be set back to 0: {exc}"
        self._decide(index, self.split, {"decision": decision, "reason": reason}, None, None)
        update_rollout(self.workspace, self.id, state=state, split=self.split, reason=reason)
