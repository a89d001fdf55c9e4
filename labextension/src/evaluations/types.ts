/**
 * The evaluation, comparison, drift, A/B test and alert routes of the
 * mlops-lab REST API: what they return, and the client calling them.
 */

import { IModelPage } from '../models/types';

export type Task = 'classification' | 'regression';

/**
 * One evaluation of a model version on a dataset version.
 */
export interface IEvaluationSummary {
  id: string;
  model: string;
  version: number;
  dataset: string;
  dataset_version: number;
  task: Task | string;
  label: string;
  rows: number;
  metrics: Record<string, number | null>;
  /**
   * Columns the rows were sliced by.
   */
  slices: string[];
  created_at: string;
  run_id?: string | null;
}

export interface IEvaluationPage {
  evaluations: IEvaluationSummary[];
  total: number;
}

/**
 * Metrics on the rows where `column` is `value`.
 */
export interface ISliceMetrics {
  column: string;
  value: unknown;
  rows: number;
  metrics: Record<string, number | null>;
}

export interface IConfusionMatrix {
  labels: unknown[];
  /**
   * `matrix[actual][predicted]` counts.
   */
  matrix: number[][];
}

export interface ICurve {
  x: number[];
  y: number[];
}

export interface ICurves {
  /**
   * x false positive rate, y true positive rate.
   */
  roc?: ICurve | null;
  /**
   * x recall, y precision.
   */
  pr?: ICurve | null;
  /**
   * x mean predicted probability, y fraction of positives, per bin.
   */
  calibration?: (ICurve & { counts?: number[] }) | null;
}

export interface IResiduals {
  mean: number;
  std: number;
  quantiles: Record<string, number>;
  histogram: { edges: number[]; counts: number[] };
}

/**
 * One evaluation in detail (`GET evaluations/{id}`).
 */
export interface IEvaluationDetail extends IEvaluationSummary {
  slice_metrics: ISliceMetrics[];
  confusion_matrix: IConfusionMatrix | null;
  curves: ICurves | null;
  residuals: IResiduals | null;
}

/**
 * A gate decision: candidate against baseline on one metric, with a
 * bootstrap confidence interval of the difference.
 */
export interface IComparison {
  id: string;
  model: string;
  baseline: number;
  candidate: number;
  dataset: string;
  dataset_version: number;
  metric: string;
  baseline_value: number;
  candidate_value: number;
  difference: number;
  ci_low: number;
  ci_high: number;
  confidence: number;
  n_boot: number;
  min_improvement: number;
  decision: 'promote' | 'hold' | string;
  reason: string;
  created_at: string;
}

export interface IDriftSummary {
  id: string;
  /**
   * `name@version` of the reference and current datasets.
   */
  reference: string;
  current: string;
  /**
   * `name/version` of the model the check was for, if any.
   */
  model: string | null;
  columns_checked: number;
  drifted: string[];
  drifted_share: number;
  verdict: 'drift' | 'ok' | string;
  alert_id: string | null;
  created_at: string;
  /**
   * What the report counts, as its alert does (one function on the server).
   */
  counts: IDriftCounts;
}

/**
 * Drifted feature columns of the checked ones; with a model, its
 * `prediction` column apart.
 */
export interface IDriftCounts {
  features: number;
  features_drifted: number;
  drifted_features: string[];
  share: number;
  prediction_checked: boolean;
  prediction_drifted: boolean;
  /**
   * `9 of 16 feature columns drifted`.
   */
  summary: string;
}

export interface IDriftPage {
  reports: IDriftSummary[];
  total: number;
}

/**
 * The distribution of a column in both datasets, as fractions per bin
 * (numeric, `edges`) or per category.
 */
export interface IDriftHistogram {
  edges: number[] | null;
  categories: unknown[] | null;
  reference: number[];
  current: number[];
  /**
   * How the numeric edges are spaced (bins span the reference's 1st to 99th
   * percentiles): equal-width, log-spaced or quantiles.
   */
  scale?: 'linear' | 'log' | 'quantile';
  /**
   * Shares of rows below the first edge and above the last (numeric).
   */
  below?: IDriftTail | null;
  above?: IDriftTail | null;
}

export interface IDriftTail {
  reference: number;
  current: number;
}

export interface IDriftColumn {
  column: string;
  kind: 'numeric' | 'categorical' | string;
  test: string;
  statistic: number | null;
  p_value: number | null;
  p_adjusted: number | null;
  effect: string;
  effect_size: number | null;
  psi: number | null;
  alpha: number;
  effect_floor: number;
  drifted: boolean;
  histogram: IDriftHistogram | null;
}

export interface IDriftReport extends IDriftSummary {
  columns: IDriftColumn[];
  settings: Record<string, unknown>;
}

export interface IAbVariant {
  variant: string;
  n: number;
  value: number;
}

export interface IAbComparison {
  variant: string;
  difference: number;
  ci_low: number;
  ci_high: number;
  p_value: number;
  statistic: number;
  test: string;
}

export interface IAbTest {
  id: string;
  name: string;
  dataset: string;
  dataset_version: number;
  variant_column: string;
  outcome: string;
  kind: 'rate' | 'mean' | string;
  control: string;
  variants: IAbVariant[];
  comparisons: IAbComparison[];
  created_at: string;
  /**
   * `closed` once archived (with who and why).
   */
  status: 'active' | 'closed' | string;
  closed_at?: string | null;
  closed_by?: string | null;
  close_reason?: string | null;
}

/**
 * An alert: raised once per rule, updated while active (open or
 * acknowledged), acknowledged or closed by someone with a reason.
 */
export interface IAlert {
  id: string;
  pipeline: string | null;
  kind: string;
  /**
   * The latest occurrence's message.
   */
  message: string;
  status: 'open' | 'acknowledged' | 'closed' | string;
  created_at: string;
  data: Record<string, unknown>;
  /**
   * How often the rule fired while the alert was active.
   */
  occurrences: number;
  last_seen_at: string;
  acknowledged_at?: string | null;
  acknowledged_by?: string | null;
  acknowledge_reason?: string | null;
  closed_at?: string | null;
  closed_by?: string | null;
  close_reason?: string | null;
}

/**
 * The body of `POST alerts/{id}/acknowledge`, `alerts/{id}/close` and
 * `ab-tests/{id}/close`.
 */
export interface IReasonRequest {
  reason: string;
}

/**
 * What a person can do with an alert or an A/B test.
 */
export type DecisionAction = 'acknowledge' | 'close';

/**
 * The REST API, as the Evaluations view uses it.
 */
export interface IEvaluationsApi {
  listModels(): Promise<IModelPage>;
  listEvaluations(model: string): Promise<IEvaluationPage>;
  getEvaluation(id: string): Promise<IEvaluationDetail>;
  listComparisons(model: string): Promise<{ comparisons: IComparison[] }>;
  listDrift(): Promise<IDriftPage>;
  getDrift(id: string): Promise<IDriftReport>;
  listAbTests(): Promise<{ tests: IAbTest[] }>;
  /**
   * Open and acknowledged alerts.
   */
  listActiveAlerts(): Promise<{ alerts: IAlert[] }>;
  actOnAlert(
    id: string,
    action: DecisionAction,
    request: IReasonRequest
  ): Promise<IAlert>;
  closeAbTest(id: string, request: IReasonRequest): Promise<IAbTest>;
}
