import { ServerConnection } from '@jupyterlab/services';

import { jsonBody, requestAPI } from '../request';
import { IOpenedNotebook } from '../tokens';
import {
  IPipelineList,
  IRun,
  IRunComparison,
  IRunPage,
  IRunsApi,
  IStartRunRequest
} from './types';

/**
 * The pipelines and runs routes of the mlops-lab REST API.
 */
export class RunsApi implements IRunsApi {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings;
  }

  listPipelines(): Promise<IPipelineList> {
    return this._get('pipelines');
  }

  listRuns(query: Parameters<IRunsApi['listRuns']>[0]): Promise<IRunPage> {
    const params = new URLSearchParams({
      limit: String(query.limit),
      offset: String(query.offset)
    });
    if (query.pipeline) {
      params.set('pipeline', query.pipeline);
    }
    if (query.status) {
      params.set('status', query.status);
    }
    if (!query.handoffs) {
      params.set('exclude_kind', 'handoff');
    }
    return this._get(`runs?${params}`);
  }

  getRun(runId: string): Promise<IRun> {
    return this._get(`runs/${encodeURIComponent(runId)}`);
  }

  startRun(request: IStartRunRequest): Promise<{ run_id: string }> {
    return this._post('runs', request);
  }

  cancelRun(runId: string): Promise<{ run_id: string; status: string }> {
    return this._post(`runs/${encodeURIComponent(runId)}/cancel`, {});
  }

  compareRuns(a: string, b: string): Promise<IRunComparison> {
    return this._get(`runs/compare?${new URLSearchParams({ a, b })}`);
  }

  openStage(runId: string, stage: string): Promise<IOpenedNotebook> {
    return this._post(`${stagePath(runId, stage)}/open`, {});
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, this._settings);
  }

  private _post<T>(endPoint: string, body: unknown): Promise<T> {
    return requestAPI<T>(endPoint, jsonBody('POST', body), this._settings);
  }

  private _settings: ServerConnection.ISettings | undefined;
}

function stagePath(runId: string, stage: string): string {
  return `runs/${encodeURIComponent(runId)}/stages/${encodeURIComponent(stage)}`;
}
