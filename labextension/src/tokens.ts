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
 * A JSON value, as stored for parameters.
 */
export type JSONValue =
  null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

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
