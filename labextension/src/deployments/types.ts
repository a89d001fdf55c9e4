/**
 * The deployment routes of the mlops-lab REST API: what they return
 * (`GET deployments`, `GET deployments/{id}`, `GET deployments/{id}/history`,
 * `POST deployments/{id}/split`, and the open alerts of `GET alerts`) and
 * the client calling them.
 */

import { IAlert } from '../evaluations/types';

export { IAlert };

/**
 * One version a model server serves, as its `/metadata` reports it.
 */
export interface IServedVariant {
  /**
   * The alias it follows, e.g. `churn@champion`.
   */
  ref: string;
  model: string;
  version: number;
  signature?: unknown;
  /**
   * Feature view -> the features read from the online store.
   */
  online_features: Record<string, string[]>;
  /**
   * How many times it swapped to a new version after an alias moved.
   */
  swaps: number;
  /**
   * Why the last reload failed (it keeps serving the old version).
   */
  last_error: string | null;
}

/**
 * A change of the challenger's share; `at` in unix seconds.
 */
export interface ISplitHistoryEntry {
  from: number;
  to: number;
  reason: string;
  at: number;
}

/**
 * What a running model server reports at `/metadata`.
 */
export interface IServerMetadata {
  served: Record<string, IServedVariant>;
  split: number;
  split_history: ISplitHistoryEntry[];
  /**
   * Feature view -> when it was last materialized, null if never.
   */
  feature_freshness: Record<string, string | null>;
  traffic?: Record<string, unknown>;
}

/**
 * Requests (by HTTP status), errors by class and latency by variant
 * (`champion`, `challenger`; `none` counts requests refused before one was
 * chosen, e.g. a body that is not JSON), from the server's `/metrics`.
 * Latency quantiles are the upper bounds of the histogram's buckets.
 */
export interface IServerMetrics {
  requests: Record<string, Record<string, number>>;
  errors?: Record<string, IVariantErrors | undefined>;
  latency: Record<string, ILatency | undefined>;
}

/**
 * A variant's errors: 4xx are the client's (a bad body, an unknown
 * entity), 5xx the server's. `error_rate` is the 5xx rate; null before
 * any request.
 */
export interface IVariantErrors {
  requests: number;
  client_errors: number;
  server_errors: number;
  error_rate: number | null;
  client_error_rate: number | null;
}

/**
 * What a variant answered in one bucket of the history.
 */
export interface IBucketCounts {
  requests: number;
  client_errors: number;
  server_errors: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

/**
 * One bucket of a deployment's history: `start` in unix seconds, the
 * `seconds` it covers (less for the first and the current one).
 */
export interface IHistoryBucket {
  start: number;
  seconds: number;
  variants: Record<string, IBucketCounts | undefined>;
}

/**
 * `GET deployments/{id}/history`: the model server's traffic per bucket
 * (10 s) over the last hour, oldest first, empty buckets included.
 */
export interface IDeploymentHistory {
  deployment_id: string;
  bucket_seconds: number;
  now: number;
  buckets: IHistoryBucket[];
}

export interface ILatency {
  p50_ms: number | null;
  p99_ms: number | null;
}

/**
 * What `mlops-lab serve` logged when it stopped.
 */
export interface IPredictionLogCounts {
  appended: number;
  written: number;
  files: number;
}

/**
 * A model server started with `mlops-lab serve`; `metadata` and
 * `metrics` are there while it answers.
 */
export interface IDeployment {
  id: string;
  ref: string;
  challenger: string | null;
  split: number;
  url: string;
  host: string;
  pid: number;
  log_folder: string | null;
  status: 'running' | 'stopped';
  started_at: string;
  stopped_at: string | null;
  counts: IPredictionLogCounts | null;
  alive: boolean;
  /**
   * Why a running server did not answer.
   */
  error?: string;
  metadata?: IServerMetadata;
  metrics?: IServerMetrics;
}

export interface ISplitRequest {
  split: number;
  reason: string;
}

export interface ISplitChange {
  from: number;
  to: number;
  reason: string;
  at: number;
}

/**
 * The deployments REST API, as the Deployments view uses it.
 */
export interface IDeploymentsApi {
  /**
   * The running deployments, and the stopped ones when `all`.
   */
  listDeployments(all: boolean): Promise<{ deployments: IDeployment[] }>;
  getDeployment(id: string): Promise<IDeployment>;
  /**
   * A running deployment's traffic over time.
   */
  getHistory(id: string): Promise<IDeploymentHistory>;
  setSplit(id: string, request: ISplitRequest): Promise<ISplitChange>;
  listActiveAlerts(): Promise<{ alerts: IAlert[] }>;
}
