import { MlopsApiError } from '../request';
import { ViewModel } from '../viewModel';
import { IPipeline, IRun, IRunComparison, RunStatus } from './types';

/*
 * The state of the Runs view (see `RunsModel`).
 */

/**
 * The server-side filter of the run list.
 */
export interface IRunsFilter {
  pipeline: string | null;
  status: RunStatus | null;
  /**
   * Show the clean runs of handoff checks too (hidden by default).
   */
  handoffs: boolean;
}

/**
 * The comparison of the two selected runs (`a` started first).
 */
export type ComparisonState =
  | { phase: 'none' }
  | { phase: 'loading'; a: string; b: string }
  | { phase: 'ok'; a: string; b: string; comparison: IRunComparison }
  | { phase: 'error'; a: string; b: string; error: MlopsApiError };

/**
 * The Runs view's own state. In `IViewState`: the list (`items`: the loaded
 * pages of runs, newest first; `loading` is only set by loads the user
 * asked for, live updates load silently), `selected`: the runs ticked for
 * comparison (at most two, in the order they were ticked) and `detail`:
 * their comparison (see `comparisonOf`).
 */
export interface IRunsExtra {
  filter: IRunsFilter;
  /**
   * The workspace's pipelines, `null` until loaded.
   */
  pipelines: readonly IPipeline[] | null;
  pipelinesError: MlopsApiError | null;
  /**
   * Runs shown with their stages.
   */
  expanded: ReadonlySet<string>;
  /**
   * `GET runs/{id}` of expanded runs (for their metrics).
   */
  details: ReadonlyMap<string, IRun>;
  /**
   * Why the last action (cancel, open) failed, until dismissed. Actions in
   * flight (`pending`): `cancel:<run>`, `open:<run>/<stage>`.
   */
  actionError: MlopsApiError | null;
  /**
   * Whether the list reloads by itself (a listed run is running).
   */
  live: boolean;
  /**
   * The run to scroll to (the one started or revealed last).
   */
  focus: string | null;
}

/**
 * Everything the runs view shows. A new object on every change.
 */
export type IRunsState = ViewModel.State<
  IRun,
  IRunComparison,
  readonly string[],
  IRunsExtra
>;

/**
 * The ticked runs' comparison, `a` started first.
 */
export function comparisonOf(state: IRunsState): ComparisonState {
  const ticked = state.selected ?? [];
  if (ticked.length !== 2) {
    return { phase: 'none' };
  }
  const [a, b] = byStart(ticked, state.items);
  if (state.detailError) {
    return { phase: 'error', a, b, error: state.detailError };
  }
  if (state.detail) {
    return { phase: 'ok', a, b, comparison: state.detail };
  }
  return { phase: 'loading', a, b };
}

/**
 * Opens a notebook from the server's contents, scrolled to a cell.
 */
export type NotebookOpener = (
  path: string,
  cell: number | null
) => Promise<void>;

/**
 * Two runs in the order they started (by the list's start times).
 */
export function byStart(
  ids: readonly string[],
  runs: readonly IRun[]
): string[] {
  const started = (id: string) =>
    runs.find(run => run.id === id)?.started_at ?? '';
  return [...ids].sort((x, y) => started(x).localeCompare(started(y)));
}
