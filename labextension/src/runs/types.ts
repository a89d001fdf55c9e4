/*
 * The payloads of the runs REST API (`mlops-lab/api/runs`, `pipelines`).
 */

import { IOpenedNotebook, JSONValue } from '../tokens';

/**
 * Status of a run (`GET mlops-lab/api/runs`).
 */
export type RunStatus =
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'interrupted'
  | 'interactive';

/**
 * Every run status, in the order the filter offers them.
 */
export const RUN_STATUSES: readonly RunStatus[] = [
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
  'interactive'
];

/**
 * Status of one stage of a run.
 */
export type StageStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'cached'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  | 'interrupted'
  | 'not_selected';

/**
 * One stage of a pipeline specification.
 */
export interface IStageSpec {
  name: string;
  notebook: string;
  /**
   * Every parameter of the notebook's `parameters` cell with the value the
   * pipeline gives it (the notebook default or the pipeline's override).
   */
  parameters: Record<string, JSONValue>;
  needs: string[];
  inputs: Record<string, string[]>;
  outputs: Record<string, string[]>;
  timeout?: number | null;
  cell_timeout?: number | null;
  kernel?: string | null;
}

/**
 * A pipeline of `mlops_lab.yaml`, stages in dependency order.
 */
export interface IPipeline {
  name: string;
  description: string;
  stages: IStageSpec[];
}

/**
 * The payload of `GET mlops-lab/api/pipelines`.
 */
export interface IPipelineList {
  pipelines: IPipeline[];
}

/**
 * One stage of a run.
 */
export interface IStageRun {
  run_id: string;
  stage: string;
  position: number;
  needs: string[];
  notebook: string;
  status: StageStatus;
  source_hash?: string;
  parameters?: Record<string, JSONValue>;
  cache_key?: string | null;
  cached_from?: string | null;
  started_at?: string | null;
  ended_at?: string | null;
  duration_s?: number | null;
  cells_total?: number | null;
  cells_done?: number | null;
  executed_notebook?: string | null;
  /**
   * The cell that raised (or was running when the run stopped), as JupyterLab
   * counts it: the saved notebook's cell, from 1.
   */
  error_cell?: number | null;
  error_name?: string | null;
  error_value?: string | null;
  traceback?: string | null;
  /**
   * How the stage ran: its kernel (and why, when not the notebook's own) and
   * time limits.
   */
  execution?: IStageExecution | null;
}

/**
 * The kernel and time limits a stage ran with.
 */
export interface IStageExecution {
  kernel: string;
  kernel_asked?: string | null;
  note?: string | null;
  timeout?: number | null;
  cell_timeout?: number | null;
}

/**
 * A pipeline run (or an interactive run recorded from a notebook).
 */
export interface IRun {
  id: string;
  pipeline?: string | null;
  /**
   * `handoff`: the clean run of a handoff check (hidden from the Runs list
   * unless asked for).
   */
  kind: 'pipeline' | 'interactive' | 'handoff';
  trigger: string;
  reason?: string;
  status: RunStatus;
  parameters?: Record<string, JSONValue>;
  git_commit?: string | null;
  git_dirty?: boolean | null;
  notebook?: string | null;
  started_at: string;
  ended_at?: string | null;
  duration_s?: number | null;
  error?: string | null;
  cancel_requested?: boolean;
  stages?: IStageRun[];
  /**
   * stage -> metric name -> last value (`GET runs/{id}` only).
   */
  metrics?: Record<string, Record<string, number>>;
}

/**
 * The payload of `GET mlops-lab/api/runs`.
 */
export interface IRunPage {
  runs: IRun[];
  total: number;
  limit: number;
  offset: number;
}

/**
 * The body of `POST mlops-lab/api/runs`: give `pipeline` or `notebook`.
 */
export interface IStartRunRequest {
  pipeline?: string;
  notebook?: string;
  parameters?: Record<string, JSONValue>;
  force?: boolean;
  only?: string;
  from?: string;
}

/**
 * One parameter that differs between two runs.
 */
export interface IParameterDifference {
  stage: string;
  name: string;
  a: JSONValue | undefined;
  b: JSONValue | undefined;
}

/**
 * One metric that differs between two runs.
 */
export interface IMetricDifference {
  stage: string;
  name: string;
  a: number | null;
  b: number | null;
  delta: number | null;
  /**
   * From the metric's name: false for a loss, error, latency...
   */
  higher_is_better?: boolean;
  /**
   * Going from A to B; null when either is missing.
   */
  change?: 'better' | 'worse' | 'same' | null;
}

/**
 * The payload of `GET mlops-lab/api/runs/compare?a=&b=`.
 */
export interface IRunComparison {
  a: string;
  b: string;
  parameters: IParameterDifference[];
  metrics: IMetricDifference[];
}

/**
 * The mlops-lab runs REST API, as the runs model uses it.
 */
export interface IRunsApi {
  listPipelines(): Promise<IPipelineList>;
  listRuns(query: {
    pipeline?: string | null;
    status?: RunStatus | null;
    /**
     * Include handoff clean runs (left out unless true).
     */
    handoffs?: boolean;
    limit: number;
    offset: number;
  }): Promise<IRunPage>;
  getRun(runId: string): Promise<IRun>;
  startRun(request: IStartRunRequest): Promise<{ run_id: string }>;
  cancelRun(runId: string): Promise<{ run_id: string; status: string }>;
  compareRuns(a: string, b: string): Promise<IRunComparison>;
  openStage(runId: string, stage: string): Promise<IOpenedNotebook>;
}
