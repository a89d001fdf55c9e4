/**
 * Shapes of the mlops-lab REST payloads (`{base}/mlops-lab/api/...`).
 *
 * These mirror the Python server extension; keep them in step with
 * `openapi.yaml`.
 */

/**
 * The workspace the server resolved (`mlops_lab.yaml` or `MLOPS_LAB_HOME`).
 */
export interface IWorkspaceInfo {
  path: string;
  name: string;
}

/**
 * The DuckDB catalog of the workspace.
 */
export interface ICatalogInfo {
  path: string;
  schema_version: number;
}

/**
 * Number of catalog entries of each kind.
 */
export interface IStatusCounts {
  datasets: number;
  feature_views: number;
  models: number;
  evaluations: number;
  runs: number;
  artifacts: number;
}

/**
 * The payload of `GET mlops-lab/api/status`.
 */
export interface IStatus {
  version: string;
  workspace: IWorkspaceInfo;
  catalog: ICatalogInfo;
  counts: IStatusCounts;
  artifacts_bytes: number;
}

/**
 * The body of every error response of the mlops-lab API.
 */
export interface IErrorBody {
  error: {
    type: string;
    status: number;
    message: string;
    /**
     * Only for a wrong request body (422 `RequestBodyError`): each wrong
     * field, e.g. `{field: 'split', reason: 'must be between 0 and 1, got 2.'}`.
     */
    fields?: { field: string; reason: string }[];
  };
}

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
 * A JSON value, as stored for parameters.
 */
export type JSONValue =
  null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

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
 * The payload of `POST mlops-lab/api/runs/{id}/stages/{stage}/open`.
 */
export interface IOpenedNotebook {
  /**
   * Relative to the Jupyter server's root.
   */
  path: string;
  /**
   * The failing cell's index in this copy, from 0, to scroll to (the copy
   * holds papermill's banner and parameters cells), if any.
   */
  cell?: number | null;
  /**
   * The same cell in the saved notebook, from 1.
   */
  notebook_cell?: number | null;
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

/**
 * A feature view, latest version (`GET mlops-lab/api/features/views`).
 */
export interface IFeatureViewSummary {
  name: string;
  version: number;
  entity: string;
  owner?: string;
  tags?: string[];
  description?: string;
  row_count?: number;
  feature_count: number;
  created_at?: string;
  /**
   * Newest event time in the online store, `null` when never materialized.
   */
  freshness?: string | null;
}

/**
 * The payload of `GET mlops-lab/api/features/views`.
 */
export interface IFeatureViewPage {
  views: IFeatureViewSummary[];
  total: number;
  limit: number;
  offset: number;
}

/**
 * Distribution of a feature: numeric features have `edges` (one more than
 * `counts`), others `labels` (their top values).
 */
export interface IHistogram {
  edges?: number[];
  labels?: string[];
  counts: number[];
}

/**
 * A scalar statistic: numbers for numeric features, strings (e.g. dates or
 * the first and last label) for others.
 */
export type StatValue = number | string | boolean | null;

/**
 * One feature of a view version, with its statistics.
 */
export interface IFeature {
  name: string;
  description?: string;
  dtype: string;
  null_share?: number;
  min?: StatValue;
  max?: StatValue;
  mean?: number | null;
  distinct?: number;
  histogram?: IHistogram | null;
  /**
   * Window features: the aggregate (avg, sum, min, max, count, stddev, last,
   * count_distinct), its source column and the window's length.
   */
  function?: string;
  column?: string;
  window_seconds?: number;
  /**
   * Window features: the feature in words, e.g. "sum of amount over the 7
   * days up to and including the row's time (...)".
   */
  definition?: string;
  /**
   * Window features: what the statistics and histogram are computed as of.
   */
  stats_as_of?: IStatsAsOf;
}

/**
 * The statistics of a window feature are its values as of the source's last
 * event time (`as_of`), one per entity with events in the source.
 */
export interface IStatsAsOf {
  as_of?: string | null;
  rows?: string;
  note?: string;
  /**
   * The source's span of event times, in seconds.
   */
  span_seconds?: number;
  /**
   * Windows longer than that span, e.g. `["400d"]` (allowed).
   */
  longer_than_span?: string[];
}

/**
 * How a view version's table is stored: `rows` (a plain view), `events` (a
 * window view: its events, aggregated as of the time asked for),
 * `event_windows` (a window view of an older mlops-lab, recomputed on first
 * use).
 */
export type FeatureTableFormat = 'rows' | 'events' | 'event_windows';

/**
 * One version of a feature view.
 */
export interface IFeatureViewVersion {
  version: number;
  created_at?: string;
  digest?: string;
  source?: { dataset: string; version: number };
}

/**
 * One feature one consumer used (a row per feature).
 */
export interface IFeatureConsumer {
  version: number;
  feature: string;
  /**
   * `training_frame` (models later).
   */
  kind: string;
  /**
   * E.g. the training frame's `dataset@version`.
   */
  id: string;
  first_used?: string;
}

/**
 * The payload of `GET mlops-lab/api/features/views/{name}?version=`.
 */
export interface IFeatureViewDetail {
  name: string;
  version: number;
  /**
   * The registered definition (entity, source, aggregations, ttl, ...).
   */
  definition: { [key: string]: JSONValue };
  entity?: { name: string; join_keys: string[]; description?: string };
  source?: { dataset: string; version: number };
  row_count?: number;
  features: IFeature[];
  owner?: string;
  tags?: string[];
  description?: string;
  ttl_seconds?: number | null;
  created_at?: string;
  versions: IFeatureViewVersion[];
  consumers: IFeatureConsumer[];
  freshness?: string | null;
  /**
   * Python code loading these features into a training frame.
   */
  snippet?: string;
  table_format?: FeatureTableFormat;
  /**
   * Whether the view's features are windows over its source's events.
   */
  windowed?: boolean;
}

/**
 * A feature whose type or mean changed between two versions.
 */
export interface IChangedFeature {
  name: string;
  a?: { dtype?: string; mean?: number | null };
  b?: { dtype?: string; mean?: number | null };
}

/**
 * The payload of `GET mlops-lab/api/features/views/{name}/diff?a=&b=`.
 */
export interface IFeatureViewDiff {
  name: string;
  a: number;
  b: number;
  /**
   * Unified diff lines of the two definitions (pretty JSON).
   */
  definition: string[];
  features: {
    added?: string[];
    removed?: string[];
    changed?: IChangedFeature[];
  };
}

/**
 * Whether the values model servers served match the offline store.
 */
export type ConsistencyVerdict = 'consistent' | 'mismatch' | 'no data';

/**
 * A served value the offline store, recomputed as of the same time,
 * disagrees with.
 */
export interface IConsistencyExample {
  entity: { [key: string]: JSONValue };
  as_of: string;
  version: number;
  online: JSONValue;
  offline: JSONValue;
}

/**
 * One feature's served values checked against the offline store.
 */
export interface IFeatureConsistency {
  feature: string;
  checked: number;
  mismatches: number;
  /**
   * `mismatches / checked`, 0 when nothing was checked.
   */
  rate: number;
  examples: IConsistencyExample[];
}

/**
 * An online/offline consistency check of a view: the values model servers
 * logged, recomputed offline as of the logged times
 * (`GET|POST mlops-lab/api/features/views/{name}/consistency`).
 */
export interface IConsistencyReport {
  id?: string;
  view: string;
  /**
   * Only predictions logged from this time were checked.
   */
  since?: string | null;
  created_at?: string;
  rows_checked: number;
  versions?: number[];
  mismatches: number;
  verdict: ConsistencyVerdict;
  /**
   * The alert opened for a mismatch.
   */
  alert?: string;
  features: IFeatureConsistency[];
}

/**
 * The server-side filter of the feature view list.
 */
export interface IFeatureViewQuery {
  q?: string;
  tag?: string;
  owner?: string;
  limit: number;
  offset: number;
}

/**
 * The mlops-lab feature store REST API, as the features model uses it.
 */
export interface IFeaturesApi {
  listViews(query: IFeatureViewQuery): Promise<IFeatureViewPage>;
  getView(name: string, version?: number | null): Promise<IFeatureViewDetail>;
  diffView(name: string, a: number, b: number): Promise<IFeatureViewDiff>;
  /**
   * The view's stored consistency reports, newest first.
   */
  listConsistency(name: string, limit?: number): Promise<IConsistencyReport[]>;
  /**
   * Check now: recompute what was served (logged from `since`) offline.
   */
  checkConsistency(name: string, since?: string): Promise<IConsistencyReport>;
}
