import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IErrorBody } from './tokens';

/**
 * URL namespace of the server extension's REST API.
 */
const API_NAMESPACE = 'mlops-lab/api';

/**
 * Error code used when the server extension does not answer at all.
 */
export const EXTENSION_MISSING = 'ServerExtensionMissing';

/**
 * Error code used when the Jupyter server cannot be reached.
 */
export const NETWORK_ERROR = 'NetworkError';

/**
 * An error raised by `requestAPI`.
 *
 * `code` is the server's error type (e.g. `WorkspaceNotFoundError`), or
 * `ServerExtensionMissing` / `NetworkError` when the API itself is not
 * there to answer.
 */
export class MlopsApiError extends Error {
  constructor(options: {
    status: number;
    code: string;
    message: string;
    details?: Record<string, unknown>;
  }) {
    super(options.message);
    this.name = 'MlopsApiError';
    this.status = options.status;
    this.code = options.code;
    this.details = options.details ?? {};
  }

  /**
   * HTTP status of the response, 0 when no response came back.
   */
  readonly status: number;

  /**
   * Machine-readable error type.
   */
  readonly code: string;

  /**
   * The error body's other fields, e.g. `suggested_stage` of a
   * `StageTakenError`.
   */
  readonly details: Record<string, unknown>;

  /**
   * Whether the mlops_lab server extension is unavailable (not enabled, or
   * the server is unreachable), as opposed to an error it reported.
   */
  get extensionMissing(): boolean {
    return this.code === EXTENSION_MISSING || this.code === NETWORK_ERROR;
  }
}

/**
 * Call the mlops-lab REST API and return its JSON body.
 *
 * @param endPoint path below `{baseUrl}mlops-lab/api/`, e.g. `status`
 * @param init fetch options (method, body, ...)
 * @param settings server settings; defaults to the page's settings
 * @throws {MlopsApiError} on any failure
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (reason) {
    throw new MlopsApiError({
      status: 0,
      code: NETWORK_ERROR,
      message: `Could not reach the Jupyter server: ${String(reason)}`
    });
  }

  const text = await response.text();
  const body = parseJson(text);

  if (response.ok) {
    if (body === undefined) {
      throw new MlopsApiError({
        status: response.status,
        code: 'InvalidResponse',
        message: `Expected JSON from ${url}, got: ${text.slice(0, 200)}`
      });
    }
    return body as T;
  }
  throw toApiError(response.status, body, text);
}

/**
 * Parse a response body, or return `undefined` if it is not JSON.
 */
function parseJson(text: string): unknown {
  if (text.length === 0) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether a parsed body has the API's `{"error": {...}}` shape.
 */
function isErrorBody(body: unknown): body is IErrorBody {
  const error = (body as IErrorBody | undefined)?.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof error.type === 'string' &&
    typeof error.message === 'string'
  );
}

/**
 * Turn a failed response into a typed error.
 *
 * A 404 that is not one of our JSON errors means no handler is mounted at
 * `mlops-lab/api`, i.e. the server extension is not enabled.
 */
function toApiError(
  status: number,
  body: unknown,
  text: string
): MlopsApiError {
  if (isErrorBody(body)) {
    const { type, message, ...details } = body.error;
    return new MlopsApiError({ status, code: type, message, details });
  }
  if (status === 404) {
    return new MlopsApiError({
      status,
      code: EXTENSION_MISSING,
      message: 'The mlops_lab server extension is not enabled.'
    });
  }
  const detail = (body as { message?: unknown } | undefined)?.message;
  return new MlopsApiError({
    status,
    code: 'HttpError',
    message:
      typeof detail === 'string' && detail
        ? detail
        : `HTTP ${status}: ${text.slice(0, 200) || 'no response body'}`
  });
}

/**
 * Make sure whatever was thrown is reported as an `MlopsApiError`.
 */
export function asApiError(reason: unknown): MlopsApiError {
  if (reason instanceof MlopsApiError) {
    return reason;
  }
  return new MlopsApiError({
    status: 0,
    code: 'ClientError',
    message: reason instanceof Error ? reason.message : String(reason)
  });
}

/**
 * `init` for a request that sends `body` as JSON.
 */
export function jsonBody(method: 'POST' | 'PUT', body: unknown): RequestInit {
  return {
    method,
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' }
  };
}

/**
 * A failed user action (promote, change a split, check a notebook), as a view
 * shows it: what was being done, and the error.
 */
export interface IActionError {
  title: string;
  error: MlopsApiError;
}
