/**
 * Shapes of the lifecycle REST payloads: `GET lifecycle` (the state of the
 * four steps, the loops back and the timeline) and `GET|PUT project` (the
 * project definition of `mlops_lab.yaml`).
 *
 * These mirror the server extension; keep them in step with `openapi.yaml`.
 */

/**
 * A step's or an item's health: `idle` when there is nothing to judge yet.
 */
export type Health = 'ok' | 'warn' | 'bad' | 'idle';

/**
 * What a link points at, e.g. `{kind: 'model', id: 'churn', version: 2}`.
 */
export interface ILifecycleLink {
  kind:
    | 'dataset'
    | 'model'
    | 'comparison'
    | 'run'
    | 'deployment'
    | 'alert'
    | 'drift'
    | 'evaluation'
    | 'feature_view'
    | string;
  id: string;
  version?: number | null;
  /**
   * A comparison's model.
   */
  model?: string;
}

/**
 * A bound on a metric: overall, or in every value of `slice`.
 */
export interface IRule {
  metric: string;
  min?: number | null;
  max?: number | null;
  slice?: string | null;
}

/**
 * What the project is for (the `project:` section of `mlops_lab.yaml`).
 */
export interface IProjectSpec {
  problem: string;
  task: string;
  entity?: string | null;
  label?: string | null;
  objective: IRule;
  guardrails?: IRule[];
  gate?: { min_improvement?: number | null; non_inferiority?: number | null };
  serving?: {
    p99_ms?: number | null;
    error_rate?: number | null;
    window?: string | null;
  } | null;
  drift?: { max_drifted_share?: number | null } | null;
  owners?: Record<string, string>;
}

/**
 * The definition as the server reads it: stated, or not (yet).
 */
export type IProject =
  | ({ defined: true; file: string } & IProjectSpec)
  | { defined: false; file: string };

/**
 * One thing a step shows: a dataset version, a model version, a
 * deployment, a drift report, an alert...
 */
export interface IStepItem {
  label: string;
  detail?: string | null;
  status: Health;
  link?: ILifecycleLink | null;
}

export type StepId = 'data' | 'train' | 'deploy' | 'monitor';

export interface IStep {
  id: StepId | string;
  title: string;
  status: Health;
  summary: string;
  items: IStepItem[];
}

/**
 * A rule of the definition measured on the latest model version.
 */
export interface ICheck {
  /**
   * Where it is stated, e.g. `project.objective`, `project.guardrails[0]`.
   */
  rule: string;
  text: string;
  /**
   * The measured value (a sliced rule's worst slice), null when unmeasured.
   */
  value: number | null;
  /**
   * Null when the rule could not be judged (`why_unjudged` says why).
   */
  met: boolean | null;
  subject: string;
  worst_slice?: string | number | null;
  why_unjudged?: string;
  /**
   * The evaluation judged.
   */
  evaluation?: string;
}

/**
 * A loop back from a later step to an earlier one, and how often it fired.
 */
export interface ILoop {
  id: string;
  from: string;
  to: string;
  label: string;
  fired: number;
  last_at: string | null;
  link: ILifecycleLink | null;
}

export type Activity = 'CI' | 'CD' | 'CT' | 'CM';

export interface ITimelineEvent {
  at: string;
  activity: Activity | string;
  kind: string;
  title: string;
  detail?: string | null;
  link: ILifecycleLink | null;
}

/**
 * The payload of `GET mlops-lab/api/lifecycle`.
 */
export interface ILifecycle {
  generated_at: string;
  project: IProject;
  steps: IStep[];
  checks: ICheck[];
  loops: ILoop[];
  /**
   * Newest first, at most 50.
   */
  timeline: ITimelineEvent[];
}

/**
 * The payload of `POST mlops-lab/api/project/validate`.
 */
export interface IValidation {
  valid: boolean;
  problems?: string[];
  project?: IProjectSpec;
}
