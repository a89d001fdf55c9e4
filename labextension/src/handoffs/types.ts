/**
 * The handoff routes of the mlops-lab REST API: what they return
 * (`GET handoffs`, `POST handoffs`, `GET handoffs/{id}`,
 * `GET handoffs/{id}/report`) and the client calling them.
 */

import { IOpenedNotebook } from '../tokens';

/**
 * A handoff's status now: `stale` when the notebook's code changed since
 * it was checked.
 */
export type HandoffStatus = 'ready' | 'failing' | 'stale';

/**
 * What one check found.
 */
export type FindingStatus = 'pass' | 'warn' | 'fail';

/**
 * The checks, in the order they run and are reported, with short names
 * for headings.
 */
export const CHECKS = [
  'parameters',
  'execution_order',
  'paths',
  'inputs',
  'environment',
  'clean_run',
  'outputs',
  'reproduction',
  'determinism'
] as const;

export type CheckId = (typeof CHECKS)[number];

/**
 * One finding of a check, about a cell (index among all the notebook's
 * cells, from 0) when it concerns one.
 */
export interface IFinding {
  check: string;
  title: string;
  status: FindingStatus;
  message: string;
  cell: number | null;
  details: Record<string, unknown>;
}

/**
 * One metric of the `reproduction` finding: the last interactive run's
 * value against the clean run's.
 */
export interface IMetricComparison {
  metric: string;
  interactive: number | null;
  clean: number | null;
  same: boolean;
}

/**
 * One differing cell of the `reproduction` finding (`saved`, `clean`) or
 * of the `determinism` finding (`run1`, `run2`, `cause`): its first
 * differing line (or display, or error) on each side.
 */
export interface IOutputDifference {
  /**
   * The saved notebook's cell, from 1 (as JupyterLab counts them).
   */
  cell: number;
  kind: 'numbers' | 'text' | 'display' | 'error';
  saved?: string;
  clean?: string;
  run1?: string;
  run2?: string;
  /**
   * The differing numbers, side by side.
   */
  numbers?: [string, string][];
  /**
   * How many lines of the cell differ (when more than one).
   */
  lines?: number;
  /**
   * The likely cause of a determinism difference, or "cause not seen".
   */
  cause?: string;
}

/**
 * A metric two clean runs logged with different values (`determinism`).
 */
export interface IMetricDifference {
  metric: string;
  run1: number | null;
  run2: number | null;
}

export interface IParameterContract {
  type: string;
  default: unknown;
}

/**
 * What the notebook promises as a pipeline stage.
 */
export interface IContract {
  notebook: string;
  notebook_hash: string;
  pipeline: string;
  stage: string;
  parameters: Record<string, IParameterContract>;
  inputs: {
    datasets?: Record<string, { version: number; hash?: string }>;
    feature_views?: Record<string, { version: number }>;
  };
  outputs: {
    datasets?: string[];
    models?: string[];
    metrics?: string[];
  };
  environment: {
    python?: string;
    packages?: Record<string, string>;
  };
  /**
   * Seconds for the whole clean run; `cell_timeout` for any one cell.
   */
  timeout: number;
  cell_timeout?: number | null;
  /**
   * The kernel the check was asked to use (null: the notebook's own).
   */
  kernel?: string | null;
  rel_tol: number;
  /**
   * Clean runs the check made (2: the determinism check).
   */
  repeat?: number;
}

/**
 * A handoff: the latest check of a notebook, its findings and contract.
 */
export interface IHandoff {
  id: string;
  /**
   * Relative to the workspace.
   */
  notebook: string;
  notebook_hash: string;
  pipeline: string;
  stage: string;
  status: HandoffStatus;
  /**
   * The status when it was checked (ready or failing).
   */
  checked_status: 'ready' | 'failing';
  stale: boolean;
  counts: Record<FindingStatus, number>;
  contract: IContract;
  findings: IFinding[];
  report_artifact: string;
  /**
   * The run of the clean-run check, if it ran.
   */
  check_run: string | null;
  created_by: string;
  created_at: string;
  /**
   * In the answer to a check only: whether the stage was written to
   * mlops_lab.yaml (only when the check asked for it and was ready).
   */
  pipeline_written?: boolean;
}

/**
 * What to check (`POST handoffs`).
 */
export interface ICheckRequest {
  notebook: string;
  pipeline?: string;
  stage?: string;
  /**
   * Seconds for the whole clean run (its kernel is stopped then).
   */
  timeout?: number;
  /**
   * Seconds any one cell may take.
   */
  cell_timeout?: number;
  /**
   * An installed kernelspec to run the notebook in, instead of its own.
   */
  kernel?: string;
  rel_tol?: number;
  /**
   * Clean runs in fresh kernels (default 2; 1 skips the determinism check).
   */
  repeat?: number;
  /**
   * Add a ready notebook's stage to mlops_lab.yaml; the server leaves the
   * file alone unless this is true. The view never sends it: it asks the
   * user with a preview (`stageChange`) instead.
   */
  write_pipeline?: boolean;
}

/**
 * `POST handoffs/{id}/stage`: `{}` previews, `confirm` writes.
 */
export interface IStageChangeRequest {
  /**
   * Write the change (default false: a preview).
   */
  confirm?: boolean;
  /**
   * The previewed file's hash: a file changed since is refused (409).
   */
  config_hash?: string;
}

/**
 * The change a ready handoff's stage makes to mlops_lab.yaml
 * (`POST handoffs/{id}/stage`): previewed, or written with `confirm`.
 */
export interface IStageChange {
  handoff_id: string;
  notebook: string;
  pipeline: string;
  stage: string;
  /**
   * The stage is in mlops_lab.yaml and runs this notebook already.
   */
  declared: boolean;
  /**
   * The file would change.
   */
  changed: boolean;
  /**
   * Unified diff of mlops_lab.yaml (empty when unchanged).
   */
  diff: string;
  /**
   * The lines the file would gain.
   */
  added: string;
  /**
   * sha256 of the file as previewed: sent back with the confirmation.
   */
  config_hash: string;
  written: boolean;
}

/**
 * What adding a parameters cell did (`POST handoffs/parameters`).
 */
export interface IAddedParameters {
  notebook: string;
  /**
   * The parameters cell, counted from 1.
   */
  cell: number;
  /**
   * The parameters now in it (empty: an empty cell was added).
   */
  moved: string[];
  /**
   * The first code cell was tagged as it was.
   */
  tagged_existing: boolean;
  message: string;
}

/**
 * A check refused because its stage name already runs another notebook
 * (a 409 `StageTakenError`).
 */
export interface IStageTaken {
  stage: string;
  takenBy: string;
  suggested: string;
}

/**
 * The handoff REST API (and the routes it links to), as the view uses it.
 */
export interface IHandoffsApi {
  listHandoffs(): Promise<{ handoffs: IHandoff[] }>;
  getHandoff(id: string): Promise<IHandoff>;
  getReport(id: string): Promise<string>;
  check(request: ICheckRequest): Promise<IHandoff>;
  /**
   * Preview (no `confirm`) or write the stage of a ready handoff.
   */
  stageChange(id: string, request?: IStageChangeRequest): Promise<IStageChange>;
  /**
   * Add a parameters cell to a notebook that has none.
   */
  addParameters(notebook: string): Promise<IAddedParameters>;
  /**
   * Start a run of one stage of a pipeline (`POST runs`).
   */
  runStage(pipeline: string, stage: string): Promise<{ run_id: string }>;
  openStage(runId: string, stage: string): Promise<IOpenedNotebook>;
}

/**
 * Where the view's links lead: notebooks and the Runs view.
 */
export interface IHandoffLinks {
  /**
   * Open a notebook (path relative to the server root), at `cell` if given.
   * `executed` marks a read-only executed copy (no kernel is started).
   */
  openNotebook(
    path: string,
    cell: number | null,
    executed: boolean
  ): Promise<void>;
  /**
   * Show a run in the Runs view.
   */
  showRun(runId: string, pipeline: string): void;
  /**
   * Ask whether to check the notebook under the suggested stage name.
   */
  chooseStage(taken: IStageTaken): Promise<boolean>;
  /**
   * Show the change a ready stage makes to mlops_lab.yaml and ask whether
   * to write it (false: cancelled, nothing is written).
   */
  confirmStageChange(change: IStageChange): Promise<boolean>;
  /**
   * Before the notebook's file is changed on disk: if it is open with
   * unsaved changes, ask to save them (false: the user cancelled).
   */
  prepareEdit(path: string): Promise<boolean>;
  /**
   * Reload the notebook from disk if it is open.
   */
  reloadNotebook(path: string): Promise<void>;
  /**
   * Open a handoff in a main-area tab (absent inside that tab).
   */
  openTab?: (id: string) => void;
}
