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
   * Add a ready notebook's stage to mlops_lab.yaml; the server leaves the
   * file alone unless this is true.
   */
  write_pipeline?: boolean;
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
}
