/**
 * The deployment routes of the mlops-lab REST API: what they return
 * (`GET deployments`, `GET deployments/{id}`, `GET deployments/{id}/history`,
 * `POST deployments/{id}/split`, `GET|POST deployments/{id}/rollouts`,
 * `POST rollouts/{id}/{action}`, and the open alerts of `GET alerts`) and
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
 * One variant's numbers over a rollout step's window (the difference of two
 * `/metrics` scrapes); `error_rate` is the 5xx rate, null without requests.
 */
export interface IStepNumbers {
  requests: number;
  server_errors: number;
  error_rate: number | null;
  p99_ms: number | null;
  p99_beyond_buckets: boolean;
}

/**
 * One rule judged at a step: its value, bound and verdict (`ok`, `breach`,
 * `both` (the champion breaches too), `not enough traffic`, `not judged`...).
 */
export interface IRolloutCheck {
  metric: string;
  value: number | null;
  bound: number | null;
  verdict: string;
}

/**
 * What a step's decision was taken on.
 */
export interface IRolloutAnalysis {
  window_s: number;
  variants: Record<string, IStepNumbers | null>;
  /**
   * Prediction drift between the variants: `status` is `measured` (with
   * `psi`, `ks_statistic`, `p_value`, `drifted`) or why it is not.
   */
  drift: {
    status: string;
    psi?: number;
    ks_statistic?: number;
    p_value?: number;
    drifted?: boolean;
  };
  /**
   * The A/B test on outcomes: `measured` (the challenger's `difference`
   * from the champion with its interval) or e.g. `no outcomes yet`.
   */
  ab: {
    status: string;
    outcome?: string;
    difference?: number;
    ci_low?: number;
    ci_high?: number;
    p_value?: number;
  };
  checks: IRolloutCheck[];
}

export type RolloutDecisionKind =
  | 'continue'
  | 'hold'
  | 'rollback'
  | 'promote'
  | 'pause'
  | 'resume'
  | 'abort'
  | 'fail';

export interface IRolloutDecision {
  seq: number;
  step_index: number;
  split: number;
  decision: RolloutDecisionKind;
  reason: string;
  analysis: IRolloutAnalysis | null;
  window_start: string | null;
  window_end: string | null;
  decided_at: string;
}

export type RolloutState =
  'running' | 'paused' | 'completed' | 'rolled_back' | 'aborted' | 'failed';

/**
 * A progressive rollout (`mlops-lab rollout`): the challenger's version
 * moved through `steps` (shares), each judged; `decisions` when read one by
 * one.
 */
export interface IRollout {
  id: string;
  model: string;
  alias: string;
  to_alias: string;
  from_version: number | null;
  to_version: number;
  deployment_id: string;
  steps: number[];
  interval_s: number;
  bounds: Record<string, unknown>;
  state: RolloutState;
  step_index: number;
  split: number;
  holds: number;
  /**
   * A pause, resume or abort its controller has not read yet.
   */
  control: string | null;
  reason: string | null;
  started_by: string;
  started_at: string;
  ended_at: string | null;
  controller_alive: boolean;
  decisions?: IRolloutDecision[];
}

/**
 * `GET deployments/{id}/rollouts`: the latest ones and the newest in full.
 */
export interface IDeploymentRollouts {
  deployment_id: string;
  rollouts: IRollout[];
  current: IRollout | null;
}

/**
 * `POST deployments/{id}/rollouts`: every field optional (the project's
 * settings, else the defaults); `steps` in percent.
 */
export interface IStartRolloutRequest {
  to?: string;
  steps?: number[];
  interval_s?: number;
  min_requests?: number;
  max_error_rate?: number;
  max_p99_ms?: number;
  max_p99_ratio?: number;
  max_prediction_psi?: number;
  max_holds?: number;
}

export type RolloutAction = 'pause' | 'resume' | 'abort';

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
  /**
   * A deployment's rollouts, the newest with its decisions.
   */
  getRollouts(id: string): Promise<IDeploymentRollouts>;
  startRollout(
    id: string,
    request: IStartRolloutRequest
  ): Promise<{ rollout_id: string }>;
  controlRollout(
    rolloutId: string,
    action: RolloutAction
  ): Promise<{ requested: RolloutAction; by: string }>;
  listActiveAlerts(): Promise<{ alerts: IAlert[] }>;
}
