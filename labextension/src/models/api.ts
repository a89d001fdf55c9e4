import { ServerConnection } from '@jupyterlab/services';

import { jsonBody, requestAPI } from '../request';
import { IOpenedNotebook } from '../tokens';
import {
  IDatasetVersion,
  IModelComparison,
  IModelDetail,
  IModelPage,
  IModelQuery,
  IModelsApi,
  IModelVersionDetail,
  IPredictExample,
  IPredictRequest,
  IPrediction,
  IPromoteRequest,
  IPromoteResult
} from './types';

/**
 * The model registry routes of the mlops-lab REST API (and the route
 * opening a stage's executed notebook, for a version's lineage).
 */
export class ModelsApi implements IModelsApi {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings;
  }

  listModels(query: IModelQuery): Promise<IModelPage> {
    const params = new URLSearchParams({
      limit: String(query.limit),
      offset: String(query.offset)
    });
    const q = query.q?.trim();
    if (q) {
      params.set('q', q);
    }
    return this._get(`models?${params}`);
  }

  getModel(
    name: string,
    page: { limit: number; offset: number }
  ): Promise<IModelDetail> {
    const params = new URLSearchParams({
      limit: String(page.limit),
      offset: String(page.offset)
    });
    return this._get(`${modelPath(name)}?${params}`);
  }

  getVersion(name: string, version: number): Promise<IModelVersionDetail> {
    return this._get(`${modelPath(name)}/versions/${version}`);
  }

  promote(name: string, request: IPromoteRequest): Promise<IPromoteResult> {
    return requestAPI(
      `${modelPath(name)}/aliases`,
      jsonBody('POST', request),
      this._settings
    );
  }

  openStage(runId: string, stage: string): Promise<IOpenedNotebook> {
    const path =
      `runs/${encodeURIComponent(runId)}` +
      `/stages/${encodeURIComponent(stage)}/open`;
    return requestAPI(path, jsonBody('POST', {}), this._settings);
  }

  predict(name: string, request: IPredictRequest): Promise<IPrediction> {
    return requestAPI(
      `${modelPath(name)}/predict`,
      jsonBody('POST', request),
      this._settings
    );
  }

  example(name: string, version: number): Promise<IPredictExample> {
    return this._get(`${modelPath(name)}/versions/${version}/example`);
  }

  compare(name: string, versions: number[]): Promise<IModelComparison> {
    const params = new URLSearchParams({ versions: versions.join(',') });
    return this._get(`${modelPath(name)}/compare?${params}`);
  }

  dataset(name: string, version: number): Promise<IDatasetVersion> {
    return this._get(
      `datasets/${encodeURIComponent(name)}/versions/${version}`
    );
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, this._settings);
  }

  private _settings: ServerConnection.ISettings | undefined;
}

function modelPath(name: string): string {
  return `models/${encodeURIComponent(name)}`;
}
