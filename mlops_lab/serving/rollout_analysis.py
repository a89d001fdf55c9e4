"""One step of a progressive rollout, judged: continue, hold or roll back, with its numbers.

A step's traffic is the difference of two ``/metrics`` scrapes of the model server,
one when the step's window opened and one when it closed
(:func:`mlops_lab.serving.slo.window_stats`): per variant, requests, 5xx errors and
their rate, and the p99 from the latency histogram's difference. Beside them, the
step's logged predictions (the prediction log, ``logged_at`` inside the window) give
the prediction drift between the variants (:func:`mlops_lab.evaluation.drift`: KS,
PSI, the normalised Wasserstein distance on the ``prediction`` column), and, where
outcomes arrived for the step's requests, an A/B test of the share each variant
predicted right (:func:`mlops_lab.evaluation.abtest.ab_results`).

:func:`decide` applies the rules in this order; the first that fires decides:

1. fewer than ``min_requests`` challenger requests in the step: **hold** (not enough
   traffic to judge; the step is judged again over a new window);
2. the challenger's 5xx rate over ``max_error_rate``: **rollback**, unless the
   champion is over it too in the same window (an outage of both: **hold**);
3. the challenger's p99 over ``max_p99_ms`` (the project's serving SLO): **rollback**,
   unless the champion is over it too (**hold**);
4. the challenger's p99 over ``max_p99_ratio`` times the champion's *and* more than
   :data:`P99_SLACK_MS` above it: **rollback** (a histogram's buckets are 1, 2.5, 5,
   10 ms apart at the fast end: a ratio of two tiny latencies is noise);

   a p99 is judged (rules 3 and 4) only on :data:`P99_MIN_REQUESTS` requests or more,
   the champion's too for the ratio: on fewer, the 99th percentile is the slowest
   request, and one cold request would decide (the check says ``not enough
   requests for a p99``; the error rate is still judged);
5. ``max_prediction_psi`` set and the prediction PSI over it: **rollback**;
6. outcomes joined and the challenger right significantly less often than the
   champion (the A/B interval of the difference wholly below 0): **rollback**;
7. otherwise **continue**.

The champion is compared in the same window only (the same load on the same server):
when it served fewer than ``min_requests`` (at 100%, or a quiet champion), rules 2-4
judge the challenger against the absolute bounds alone and the ratio is ``not judged``.
A latency measured in another window, under other load, is no baseline.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from mlops_lab.evaluation.abtest import ab_results
from mlops_lab.evaluation.drift import build_profile, compare_to_profile
from mlops_lab.project import ProjectDefinition
from mlops_lab.serving.slo import MIN_REQUESTS

__all__ = [
    "P99_MIN_REQUESTS",
    "P99_SLACK_MS",
    "RolloutBounds",
    "ab_on_outcomes",
    "decide",
    "prediction_drift",
    "variant_numbers",
]

P99_SLACK_MS = 10.0
P99_MIN_REQUESTS = 50
DEFAULT_ERROR_RATE = 0.01
DEFAULT_P99_RATIO = 1.5
DEFAULT_MAX_HOLDS = 3
_NUMBERS = ("requests", "server_errors", "error_rate", "p99_ms", "p99_beyond_buckets")


@dataclass(frozen=True, kw_only=True)
class RolloutBounds:
    """What a step must meet, and where each bound was stated: ``project`` (the
    definition's ``serving:``), ``argument`` (explicit, wins) or ``default``."""

    min_requests: int = MIN_REQUESTS
    max_error_rate: float = DEFAULT_ERROR_RATE
    max_p99_ms: float | None = None
    max_p99_ratio: float = DEFAULT_P99_RATIO
    max_prediction_psi: float | None = None
    max_holds: int = DEFAULT_MAX_HOLDS
    sources: dict[str, str] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        project: ProjectDefinition | None,
        *,
        min_requests: int | None = None,
        max_error_rate: float | None = None,
        max_p99_ms: float | None = None,
        max_p99_ratio: float | None = None,
        max_prediction_psi: float | None = None,
        max_holds: int | None = None,
    ) -> RolloutBounds:
        slo = project.serving if project else None
        given = {
            "min_requests": min_requests,
            "max_error_rate": max_error_rate,
            "max_p99_ms": max_p99_ms,
            "max_p99_ratio": max_p99_ratio,
            "max_prediction_psi": max_prediction_psi,
            "max_holds": max_holds,
        }
        stated = {
            "max_error_rate": slo.error_rate if slo else None,
            "max_p99_ms": slo.p99_ms if slo else None,
        }
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for name, value in given.items():
            if value is not None:
                values[name], sources[name] = value, "argument"
            elif stated.get(name) is not None:
                values[name], sources[name] = stated[name], "project"
            else:
                sources[name] = "default"
        return cls(**values, sources=sources)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def variant_numbers(stats: dict[str, Any] | None) -> dict[str, Any] | None:
    """The numbers a decision keeps of one variant's window statistics."""
    if stats is None:
        return None
    return {name: stats.get(name) for name in _NUMBERS}


def prediction_drift(
    champion: pd.Series, challenger: pd.Series, *, min_rows: int
) -> dict[str, Any]:
    """The challenger's predictions against the champion's (the reference)."""
    rows = {"champion_rows": int(champion.size), "challenger_rows": int(challenger.size)}
    if champion.size < min_rows or challenger.size < min_rows:
        return {"status": "not enough predictions", "min_rows": min_rows, **rows}
    profile = build_profile(pd.DataFrame({"prediction": champion.to_numpy()}), ["prediction"])
    (found,) = compare_to_profile(profile, pd.DataFrame({"prediction": challenger.to_numpy()}))
    effect = found.effect_size
    return {
        "status": "measured",
        **rows,
        "ks_statistic": found.statistic,
        "p_value": found.p_value,
        "psi": found.psi,
        "wasserstein_norm": effect if math.isfinite(effect) else None,
        "drifted": found.drifted,
        "champion_mean": float(champion.mean()),
        "challenger_mean": float(challenger.mean()),
    }


def ab_on_outcomes(joined: pd.DataFrame, label: str, *, min_rows: int) -> dict[str, Any]:
    """The share each variant predicted right, champion the control. ``joined`` holds
    ``variant``, ``prediction`` (the score) and the ``label`` that arrived: a 0/1 label
    is right when the score is on its side of 0.5; another label scores the negative
    absolute error (a mean: higher is better either way)."""
    counts = joined.variant.value_counts().to_dict()
    if joined.empty:
        return {"status": "no outcomes yet"}
    if min(counts.get("champion", 0), counts.get("challenger", 0)) < min_rows:
        return {"status": "not enough outcomes", "min_rows": min_rows, "rows": counts}
    truth = joined[label].astype(float)
    if set(truth.unique()) <= {0.0, 1.0}:
        kind, metric = "rate", (joined.prediction >= 0.5).astype(float).eq(truth).astype(float)
        name = "right"
    else:
        kind, metric = "mean", -(joined.prediction - truth).abs()
        name = "minus_abs_error"
    frame = pd.DataFrame({"variant": joined.variant, name: metric})
    result = ab_results(frame, variant="variant", outcome=name, kind=kind, control="champion")
    comparison = result["comparisons"][0]
    return {
        "status": "measured",
        "outcome": name,
        "rows": counts,
        "variants": result["variants"],
        **{k: comparison[k] for k in ("test", "p_value", "difference", "ci_low", "ci_high")},
        "worse": comparison["ci_high"] < 0,
    }


def _check(metric: str, value: Any, bound: Any, verdict: str, **more: Any) -> dict[str, Any]:
    return {"metric": metric, "value": value, "bound": bound, "verdict": verdict, **more}


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def decide(
    *,
    challenger: dict[str, Any] | None,
    champion: dict[str, Any] | None,
    drift: dict[str, Any],
    ab: dict[str, Any],
    bounds: RolloutBounds,
) -> dict[str, Any]:
    """``{"decision", "reason", "checks"}`` for one step's numbers (see the module
    docstring for the rules); ``champion``: the same window's numbers, or None."""
    checks: list[dict[str, Any]] = []
    served = (challenger or {}).get("requests") or 0
    if served < bounds.min_requests:
        checks.append(_check("requests", served, bounds.min_requests, "not enough traffic"))
        return {
            "decision": "hold",
            "reason": f"not enough traffic: {served} challenger request(s) in the step, "
            f"fewer than {bounds.min_requests}",
            "checks": checks,
        }
    assert challenger is not None
    checks.append(_check("requests", served, bounds.min_requests, "ok"))
    judged = champion is not None and (champion.get("requests") or 0) >= bounds.min_requests
    ref = champion if judged else None

    rate, ref_rate = challenger["error_rate"] or 0.0, (ref or {}).get("error_rate")
    if rate > bounds.max_error_rate:
        both = ref_rate is not None and ref_rate > bounds.max_error_rate
        checks.append(
            _check("error_rate", rate, bounds.max_error_rate, "both" if both else "breach")
        )
        shown = (
            f"error rate {_rate(rate)} > {_rate(bounds.max_error_rate)} "
            f"({challenger['server_errors']} of {served} requests answered 5xx; "
            f"champion {_rate(ref_rate)})"
        )
        if both:
            return {
                "decision": "hold",
                "reason": f"both variants over the error bound: challenger {shown}",
                "checks": checks,
            }
        return {"decision": "rollback", "reason": f"challenger {shown}", "checks": checks}
    checks.append(_check("error_rate", rate, bounds.max_error_rate, "ok", champion=ref_rate))

    p99, ref_p99 = challenger["p99_ms"], (ref or {}).get("p99_ms")
    if served < P99_MIN_REQUESTS:
        p99 = None
        checks.append(_check("p99_ms", served, P99_MIN_REQUESTS, "not enough requests for a p99"))
    if (ref or {}).get("requests", 0) < P99_MIN_REQUESTS:
        ref_p99 = None
    if bounds.max_p99_ms is not None and p99 is not None:
        over = p99 > bounds.max_p99_ms
        both = over and ref_p99 is not None and ref_p99 > bounds.max_p99_ms
        verdict = "both" if both else ("breach" if over else "ok")
        checks.append(_check("p99_ms", p99, bounds.max_p99_ms, verdict, champion=ref_p99))
        if over:
            shown = f"p99 {p99:.1f} ms > {bounds.max_p99_ms:g} ms (champion {_ms(ref_p99)})"
            if both:
                return {
                    "decision": "hold",
                    "reason": f"both variants over the p99 bound: challenger {shown}",
                    "checks": checks,
                }
            return {"decision": "rollback", "reason": f"challenger {shown}", "checks": checks}
    if p99 is not None and ref_p99:
        ratio = p99 / ref_p99
        slower = ratio > bounds.max_p99_ratio and p99 - ref_p99 > P99_SLACK_MS
        checks.append(
            _check(
                "p99_ratio",
                ratio,
                bounds.max_p99_ratio,
                "breach" if slower else "ok",
                champion_p99_ms=ref_p99,
                challenger_p99_ms=p99,
            )
        )
        if slower:
            return {
                "decision": "rollback",
                "reason": f"challenger p99 {p99:.1f} ms is {ratio:.1f}x the champion's "
                f"{ref_p99:.1f} ms (bound {bounds.max_p99_ratio:g}x)",
                "checks": checks,
            }
    else:
        checks.append(_check("p99_ratio", None, bounds.max_p99_ratio, "not judged"))

    psi = drift.get("psi")
    if bounds.max_prediction_psi is not None and psi is not None:
        drifted = psi > bounds.max_prediction_psi
        verdict = "breach" if drifted else "ok"
        checks.append(_check("prediction_psi", psi, bounds.max_prediction_psi, verdict))
        if drifted:
            return {
                "decision": "rollback",
                "reason": f"prediction drift: PSI {psi:.3f} between the variants > "
                f"{bounds.max_prediction_psi:g}",
                "checks": checks,
            }
    if ab.get("status") == "measured":
        checks.append(
            _check("ab_difference", ab["difference"], 0, "breach" if ab["worse"] else "ok")
        )
        if ab["worse"]:
            return {
                "decision": "rollback",
                "reason": f"A/B on outcomes: the challenger is worse by {-ab['difference']:.3f} "
                f"({ab['outcome']}, interval {ab['ci_low']:.3f} to {ab['ci_high']:.3f}, "
                f"p {ab['p_value']:.3g})",
                "checks": checks,
            }
    latency = (
        f"p99 {_ms(p99)} (champion {_ms(ref_p99)})"
        if p99 is not None
        else f"p99 not judged (fewer than {P99_MIN_REQUESTS} requests)"
    )
    return {
        "decision": "continue",
        "reason": f"healthy: {served} challenger requests, error rate {_rate(rate)} "
        f"(<= {_rate(bounds.max_error_rate)}), {latency}",
        "checks": checks,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"
