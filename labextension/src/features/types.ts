/*
 * The payloads of the feature store REST API (`mlops-lab/api/features`).
 */

import { JSONValue } from '../tokens';

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
  source?: { dataset: string; version: number; checks?: ICheckSummary | null };
}

/**
 * Pass/fail counts of a dataset version's data checks (its latest evaluation).
 */
export interface ICheckSummary {
  status: 'passed' | 'failed';
  passed: number;
  failed: number;
  /**
   * Names of the failing checks, e.g. `columns.tenure.max`.
   */
  failing: string[];
  checked_at?: string | null;
}

/**
 * One data check of a dataset version, with a sample of the rows that
 * break it (`row`: 0-based row number in the version).
 */
export interface IDataCheck {
  name: string;
  kind: string;
  column?: string | null;
  passed: boolean;
  expected?: JSONValue;
  observed?: JSONValue;
  failing_rows?: number | null;
  sample: { row: number; values: { [column: string]: JSONValue } }[];
  message: string;
  run_id?: string | null;
  stage?: string | null;
  checked_at?: string;
}

/**
 * The payload of `GET mlops-lab/api/datasets/{name}/versions/{version}/checks`.
 */
export interface IDatasetChecks {
  dataset: string;
  version: number;
  /**
   * `unchecked`: no checks were declared when the version was made.
   */
  status: 'passed' | 'failed' | 'unchecked';
  passed: number;
  failed: number;
  checked_at?: string | null;
  checks: IDataCheck[];
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
  /**
   * How the view's stream ingest is doing; null when it is not streamed.
   */
  stream?: IStreamStatus | null;
  /**
   * The data checks of this version's source dataset version.
   */
  source_checks?: IDatasetChecks | null;
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
  /**
   * Every streamed view and how its ingest consumers are doing.
   */
  listStreams(): Promise<IStreamStatus[]>;
}

/**
 * Where a view's events stream from (`mlops_lab.yaml` or
 * `store.declare_stream`).
 */
export interface IStreamDeclaration {
  view: string;
  /**
   * `redis://HOST:PORT/DB?stream=NAME` or `nats://HOST:PORT?subject=NAME`.
   */
  source: string;
  id_column: string | null;
  max_future: number | string;
  declared_in: 'catalog' | 'mlops_lab.yaml';
}

/**
 * A consumer's state: `waiting` retries after the broker or a store
 * failed; `gone` has not reported for 30 s.
 */
export type StreamConsumerStatus =
  'starting' | 'running' | 'waiting' | 'stopped' | 'gone';

/**
 * One `mlops-lab ingest` process of a view, as it last reported.
 */
export interface IStreamConsumer {
  view: string;
  consumer: string;
  source: string;
  status: StreamConsumerStatus;
  pid?: number | null;
  started_at: string;
  updated_at: string;
  seconds_since_update: number | null;
  received?: number;
  applied?: number;
  duplicates?: number;
  dead_letters?: number;
  rate?: number | null;
  lag?: number | null;
  freshness_ms?: number | null;
  last_event_at?: string | null;
  last_error?: string | null;
  last_error_at?: string | null;
  parts?: number;
  dataset_version?: number | null;
}

/**
 * A streamed view: totals over its consumers; `rate`, `lag` and
 * `freshness_ms` over the live ones (`GET mlops-lab/api/features/streams`).
 */
export interface IStreamStatus {
  view: string;
  declaration: IStreamDeclaration | null;
  source: string;
  consumers_running: number;
  applied: number;
  duplicates: number;
  dead_letters: number;
  /**
   * Events per second applied.
   */
  rate: number;
  /**
   * Events not yet delivered to the consumer group; null unknown.
   */
  lag: number | null;
  /**
   * p99 of publish to readable online over recent batches, in ms.
   */
  freshness_ms: number | null;
  last_event_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  consumers: IStreamConsumer[];
}
