/**
 * A model's versions compared on the same datasets: the stored evaluations,
 * and the numbers a gate measured when it compared two versions (a gate
 * scores both versions on its dataset without storing an evaluation).
 */

import { IComparison, IEvaluationSummary } from './types';

/**
 * One version on one dataset version: a stored evaluation, or what a gate
 * measured (`evaluationId` null, `gates` naming the comparisons).
 */
export interface IVersionRow {
  key: string;
  version: number;
  dataset: string;
  datasetVersion: number;
  metrics: Record<string, number | null>;
  evaluationId: string | null;
  /**
   * The gate decisions (comparison ids) that measured this version here.
   */
  gates: string[];
}

/**
 * The rows of the metrics table: the newest evaluation of each version and
 * dataset version, plus a row for each version a gate measured on a dataset
 * version it was not evaluated on; grouped by dataset, newest data and
 * versions first.
 */
export function versionRows(
  evaluations: IEvaluationSummary[],
  comparisons: IComparison[] = []
): IVersionRow[] {
  const rows = new Map<string, IVersionRow>();
  for (const e of evaluations) {
    const key = rowKey(e.version, e.dataset, e.dataset_version);
    if (!rows.has(key)) {
      rows.set(key, {
        key,
        version: e.version,
        dataset: e.dataset,
        datasetVersion: e.dataset_version,
        metrics: e.metrics,
        evaluationId: e.id,
        gates: []
      });
    }
  }
  for (const c of comparisons) {
    const measured: [number, number][] = [
      [c.baseline, c.baseline_value],
      [c.candidate, c.candidate_value]
    ];
    for (const [version, value] of measured) {
      const key = rowKey(version, c.dataset, c.dataset_version);
      const row = rows.get(key) ?? {
        key,
        version,
        dataset: c.dataset,
        datasetVersion: c.dataset_version,
        metrics: {},
        evaluationId: null,
        gates: []
      };
      if (row.metrics[c.metric] === undefined) {
        row.metrics = { ...row.metrics, [c.metric]: value };
      }
      row.gates = [...row.gates, c.id];
      rows.set(key, row);
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      a.dataset.localeCompare(b.dataset) ||
      b.datasetVersion - a.datasetVersion ||
      b.version - a.version
  );
}

function rowKey(version: number, dataset: string, datasetVersion: number) {
  return `${version}/${dataset}@${datasetVersion}`;
}

/**
 * An axis range around `values`: a tenth of their span on each side, or,
 * for a single value (or equal ones), 5% of it (at least 0.01). Never the
 * plotting library's default of a unit around one point.
 */
export function valueRange(values: number[]): [number, number] | null {
  const finite = values.filter(v => Number.isFinite(v));
  if (!finite.length) {
    return null;
  }
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const pad =
    high > low ? (high - low) * 0.1 : Math.max(Math.abs(low) * 0.05, 0.01);
  return [low - pad, high + pad];
}
