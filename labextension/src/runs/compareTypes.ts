import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../request';
import { RunStatus } from './types';

/**
 * Runs compared at once, at most (the server's `MAX_COMPARED_RUNS`).
 */
export const MAX_COMPARED_RUNS = 50;

/**
 * Which way a metric moved from the baseline, by its direction.
 */
export type Change = 'better' | 'worse' | 'same';

/**
 * A compared run, as `GET runs/compare?runs=` lists it.
 */
export interface IComparedRun {
  id: string;
  pipeline: string | null;
  status: RunStatus;
  trigger: string;
  started_at: string;
  duration_s: number | null;
}

/**
 * A stage's parameter across the runs: one value per run (`null` where
 * `missing`).
 */
export interface IComparedParameter {
  stage: string;
  name: string;
  values: unknown[];
  missing: boolean[];
  /**
   * The runs disagree (a missing value counts as different).
   */
  differs: boolean;
}

/**
 * A stage's metric across the runs, with the deltas from the baseline
 * (the first run; its own delta and change are `null`).
 */
export interface IComparedMetric {
  stage: string;
  name: string;
  higher_is_better: boolean;
  values: (number | null)[];
  missing: boolean[];
  deltas: (number | null)[];
  changes: (Change | null)[];
  /**
   * The index of the best run, or null (fewer than two values, all equal).
   */
  best: number | null;
}

/**
 * The payload of `GET mlops-lab/api/runs/compare?runs=A,B,...`.
 */
export interface IRunsComparison {
  baseline: string;
  runs: IComparedRun[];
  parameters: IComparedParameter[];
  metrics: IComparedMetric[];
}

/**
 * Compare 2 to 50 runs, the first the baseline (`?runs=` repeated, so no
 * query value grows past the server's limit).
 */
export function compareManyRuns(
  runIds: readonly string[],
  settings?: ServerConnection.ISettings
): Promise<IRunsComparison> {
  const params = new URLSearchParams();
  for (const id of runIds) {
    params.append('runs', id);
  }
  return requestAPI<IRunsComparison>(`runs/compare?${params}`, {}, settings);
}

/**
 * The runs of a command's `runs` argument ("a,b,c"), or of `{a, b}`.
 */
export function runList(
  runs: string | null,
  a: string | null = null,
  b: string | null = null
): string[] {
  if (runs) {
    return runs
      .split(',')
      .map(id => id.trim())
      .filter(Boolean);
  }
  return a && b ? [a, b] : [];
}

/**
 * One tab per set of runs: the key does not depend on their order.
 */
export function comparisonSetKey(runIds: readonly string[]): string {
  return [...new Set(runIds)].sort().join(',');
}

/**
 * A comparison's tab title: `compare r1 · r2 · r3`, or
 * `compare r1 · r2 · +3` past three runs.
 */
export function comparisonLabel(runIds: readonly string[]): string {
  const shown = runIds.length > 3 ? runIds.slice(0, 2) : runIds;
  const more = runIds.length - shown.length;
  return `compare ${shown.join(' · ')}${more > 0 ? ` · +${more}` : ''}`;
}
