/**
 * The model registry routes of the mlops-lab REST API: what they return
 * (`GET models`, `GET models/{name}`, `GET models/{name}/versions/{v}`,
 * `POST models/{name}/aliases`) and the client calling them.
 */

import { IOpenedNotebook } from '../tokens';

/**
 * The metric a model is known by: its latest evaluated value.
 */
export interface IHeadline {
  metric: string;
  value: number;
  version: number;
  /**
   * `name@version` of the dataset it was measured on.
   */
  dataset: string;
}

/**
 * A registered model (`GET models`).
 */
export interface IModelSummary {
  name: string;
  description?: string | null;
  /**
   * The latest version number.
   */
  latest: number;
  /**
   * How many versions there are.
   */
  versions: number;
  /**
   * Alias -> version, e.g. `{"champion": 3}`.
   */
  aliases: Record<string, number>;
  updated_at?: string | null;
  headline: IHeadline | null;
}

export interface IModelPage {
  models: IModelSummary[];
  total: number;
  limit: number;
  offset: number;
}

export interface IModelQuery {
  q?: string;
  limit: number;
  offset: number;
}

/**
 * One version in a model's list of versions.
 */
export interface IModelVersionSummary {
  version: number;
  flavor: string;
  /**
   * A pickle the user said to trust (loading it runs code).
   */
  trusted: boolean;
  created_at: string;
  aliases: string[];
  description?: string | null;
  tags?: string[];
  run_id?: string | null;
  stage?: string | null;
  /**
   * Headline metrics of the version's latest evaluation.
   */
  metrics: Record<string, number | null>;
  /**
   * `name@version` of the dataset `metrics` were measured on.
   */
  evaluated_on?: string | null;
}

/**
 * A change of alias, oldest first or newest first as the server sends it.
 */
export interface IAliasChange {
  alias: string;
  from_version: number | null;
  to_version: number;
  changed_by: string;
  reason: string;
  changed_at: string;
}

/**
 * A model with a page of its versions (`GET models/{name}`).
 */
export interface IModelDetail {
  name: string;
  description?: string | null;
  aliases: Record<string, number>;
  /**
   * How many versions there are.
   */
  total: number;
  versions: IModelVersionSummary[];
  history: IAliasChange[];
}

export interface ISignatureColumn {
  name: string;
  dtype: string;
  /**
   * The dtype's family (int, float, bool, object, ...).
   */
  kind?: string;
}

/**
 * What a model predicts; older catalogs stored a phrase instead.
 */
export type SignatureOutput =
  { kind: string; classes?: unknown[] | null; [key: string]: unknown } | string;

export interface ISignature {
  inputs: ISignatureColumn[];
  output: SignatureOutput;
}

/**
 * The run that produced a version.
 */
export interface IVersionRun {
  id: string;
  pipeline: string;
  status: string;
}

/**
 * An evaluation as listed with a version (see the Evaluations view).
 */
export interface IVersionEvaluation {
  id: string;
  dataset: string;
  dataset_version: number;
  task: string;
  rows: number;
  metrics: Record<string, number | null>;
  created_at: string;
}

/**
 * One version in detail (`GET models/{name}/versions/{version}`).
 */
export interface IModelVersionDetail {
  name: string;
  version: number;
  flavor: string;
  artifact_hash: string;
  trusted: boolean;
  signature: ISignature | null;
  run_id: string | null;
  stage: string | null;
  /**
   * `name@version` of the training dataset.
   */
  training_dataset: string | null;
  /**
   * `name@version` of each feature view the training data used.
   */
  feature_views: string[];
  parameters: Record<string, unknown>;
  description?: string | null;
  tags: string[];
  created_at: string;
  aliases: string[];
  /**
   * The notebook that trained it, relative to the server root.
   */
  notebook: string | null;
  notebook_hash: string | null;
  run: IVersionRun | null;
  evaluations: IVersionEvaluation[];
  /**
   * Deployable bundles packaged from this version (`mlops-lab package`), newest first.
   */
  bundles?: IModelBundle[];
}

/**
 * A model version packaged to serve without the workspace: its archive is an artifact.
 */
export interface IModelBundle {
  id: string;
  model: string;
  version: number;
  ref: string;
  artifact_hash: string;
  manifest_hash: string;
  size: number;
  path: string;
  online_store: string | null;
  mlops_lab_version: string;
  created_by: string | null;
  created_at: string;
}

export interface IPromoteRequest {
  alias: string;
  version: number;
  reason: string;
}

export interface IPromoteResult {
  name: string;
  alias: string;
  from: number | null;
  to: number;
  by: string;
}

/**
 * A quick prediction from the panel (`POST models/{name}/predict`): the
 * entity's join keys, and features given rather than read online.
 */
export interface IPredictRequest {
  /**
   * `name/version` or `name@alias`; the champion when absent.
   */
  ref?: string;
  entity: Record<string, unknown>;
  features?: Record<string, unknown>;
}

/**
 * What the model answered, as a model server would.
 */
export interface IPrediction {
  request_id: string;
  variant: string;
  model: string;
  version: number;
  label?: unknown;
  score?: number | null;
  probabilities?: Record<string, number>;
  value?: unknown;
  /**
   * Feature view -> when the features read online were computed.
   */
  stale_features: Record<string, string>;
  /** Views read online -> the time their values are as of (window views: the request). */
  online_features?: Record<string, string | null>;
}

/**
 * The model registry REST API, as the Models view uses it.
 */
export interface IModelsApi {
  listModels(query: IModelQuery): Promise<IModelPage>;
  getModel(
    name: string,
    page: { limit: number; offset: number }
  ): Promise<IModelDetail>;
  getVersion(name: string, version: number): Promise<IModelVersionDetail>;
  promote(name: string, request: IPromoteRequest): Promise<IPromoteResult>;
  openStage(runId: string, stage: string): Promise<IOpenedNotebook>;
  predict(name: string, request: IPredictRequest): Promise<IPrediction>;
  example(name: string, version: number): Promise<IPredictExample>;
  compare(name: string, versions: number[]): Promise<IModelComparison>;
  dataset(name: string, version: number): Promise<IDatasetVersion>;
}

/**
 * Where a version's lineage links lead: other views and notebooks.
 */
export interface ILineageLinks {
  /**
   * Show a feature view (`name@version`) in the Features view.
   */
  showFeatureView(ref: string): void;
  /**
   * Show a run in the Runs view.
   */
  showRun(runId: string, pipeline: string | null): void;
  /**
   * Open a notebook (path relative to the server root), at `cell` if given.
   */
  openNotebook(path: string, cell: number | null): Promise<void>;
  /**
   * Open a version in a main-area tab (absent inside that tab).
   */
  openVersionTab?: (name: string, version: number) => void;
  /**
   * Open a comparison of versions in a main-area tab (absent inside tabs).
   */
  openComparisonTab?: (name: string, versions: number[]) => void;
}

/**
 * `GET models/{name}/versions/{version}/example`: a real row of the
 * version's training data, as a prediction request.
 */
export interface IPredictExample {
  dataset: string;
  /**
   * 0-based position of the row in the dataset.
   */
  row: number;
  entity: Record<string, unknown>;
  features: Record<string, unknown>;
  /**
   * Feature views whose features the online store serves.
   */
  online: string[];
}

/**
 * `GET datasets/{name}/versions/{version}`.
 */
export interface IDatasetVersion {
  name: string;
  version: number;
  artifact_hash: string;
  row_count: number;
  columns: { name: string; dtype: string }[];
  run_id: string | null;
  stage: string | null;
  created_at: string | null;
}

/**
 * A row of a comparison: one value per compared version, in their order.
 */
export interface IComparedRow {
  name: string;
  values: unknown[];
  differs: boolean;
}

/**
 * `GET models/{name}/compare?versions=1,2`: versions side by side. Every
 * `values` list follows `versions`.
 */
export interface IModelComparison {
  name: string;
  versions: {
    version: number;
    created_at: string;
    flavor: string;
    aliases: string[];
    output: string | null;
  }[];
  /**
   * The dataset versions every compared version was evaluated on (empty:
   * none shared).
   */
  datasets: {
    dataset: string;
    dataset_version: number;
    evaluations: string[];
    metrics: {
      name: string;
      values: (number | null)[];
      higher_is_better: boolean;
      /**
       * Index of the best value; null when all are equal.
       */
      best: number | null;
    }[];
  }[];
  parameters: IComparedRow[];
  signature: IComparedRow[];
  lineage: IComparedRow[];
}
