import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { jsonBody, MlopsApiError, NETWORK_ERROR, requestAPI } from '../request';
import { IErrorBody, IOpenedNotebook } from '../tokens';
import {
  IAddedParameters,
  ICheckRequest,
  IHandoff,
  IHandoffsApi,
  IStageChange,
  IStageChangeRequest
} from './types';

/**
 * The handoff routes of the mlops-lab REST API, plus the runs routes the
 * view links to (run a stage, open a stage's executed notebook).
 */
export class HandoffsApi implements IHandoffsApi {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings ?? ServerConnection.makeSettings();
  }

  listHandoffs(): Promise<{ handoffs: IHandoff[] }> {
    return requestAPI('handoffs', {}, this._settings);
  }

  getHandoff(id: string): Promise<IHandoff> {
    return requestAPI(handoffPath(id), {}, this._settings);
  }

  getReport(id: string): Promise<string> {
    return requestText(`${handoffPath(id)}/report`, this._settings);
  }

  check(request: ICheckRequest): Promise<IHandoff> {
    return requestAPI('handoffs', jsonBody('POST', request), this._settings);
  }

  stageChange(
    id: string,
    request: IStageChangeRequest = {}
  ): Promise<IStageChange> {
    return requestAPI(
      `${handoffPath(id)}/stage`,
      jsonBody('POST', request),
      this._settings
    );
  }

  addParameters(notebook: string): Promise<IAddedParameters> {
    return requestAPI(
      'handoffs/parameters',
      jsonBody('POST', { notebook }),
      this._settings
    );
  }

  runStage(pipeline: string, stage: string): Promise<{ run_id: string }> {
    return requestAPI(
      'runs',
      jsonBody('POST', { pipeline, only: stage }),
      this._settings
    );
  }

  openStage(runId: string, stage: string): Promise<IOpenedNotebook> {
    const path =
      `runs/${encodeURIComponent(runId)}` +
      `/stages/${encodeURIComponent(stage)}/open`;
    return requestAPI(path, jsonBody('POST', {}), this._settings);
  }

  private _settings: ServerConnection.ISettings;
}

function handoffPath(id: string): string {
  return `handoffs/${encodeURIComponent(id)}`;
}

/**
 * GET a route that answers with text (the Markdown report); errors are
 * the API's JSON errors, as `requestAPI` reports them.
 */
async function requestText(
  endPoint: string,
  settings: ServerConnection.ISettings
): Promise<string> {
  const url = URLExt.join(settings.baseUrl, 'mlops-lab/api', endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, {}, settings);
  } catch (reason) {
    throw new MlopsApiError({
      status: 0,
      code: NETWORK_ERROR,
      message: `Could not reach the Jupyter server: ${String(reason)}`
    });
  }
  const text = await response.text();
  if (response.ok) {
    return text;
  }
  let error: IErrorBody['error'] | undefined;
  try {
    error = (JSON.parse(text) as IErrorBody).error;
  } catch {
    error = undefined;
  }
  throw new MlopsApiError({
    status: response.status,
    code: error?.type ?? 'HttpError',
    message: error?.message ?? `HTTP ${response.status}: ${text.slice(0, 200)}`
  });
}
