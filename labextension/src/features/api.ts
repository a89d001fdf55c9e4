import { ServerConnection } from '@jupyterlab/services';

import { jsonBody, requestAPI } from '../request';
import {
  IConsistencyReport,
  IFeaturesApi,
  IFeatureViewDetail,
  IFeatureViewDiff,
  IFeatureViewPage,
  IFeatureViewQuery,
  IStreamStatus
} from './types';

/**
 * The feature store routes of the mlops-lab REST API.
 */
export class FeaturesApi implements IFeaturesApi {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings;
  }

  listViews(query: IFeatureViewQuery): Promise<IFeatureViewPage> {
    const params = new URLSearchParams({
      limit: String(query.limit),
      offset: String(query.offset)
    });
    for (const key of ['q', 'tag', 'owner'] as const) {
      const value = query[key]?.trim();
      if (value) {
        params.set(key, value);
      }
    }
    return this._get(`features/views?${params}`);
  }

  getView(name: string, version?: number | null): Promise<IFeatureViewDetail> {
    const query =
      version === null || version === undefined ? '' : `?version=${version}`;
    return this._get(`${viewPath(name)}${query}`);
  }

  diffView(name: string, a: number, b: number): Promise<IFeatureViewDiff> {
    const params = new URLSearchParams({ a: String(a), b: String(b) });
    return this._get(`${viewPath(name)}/diff?${params}`);
  }

  async listConsistency(
    name: string,
    limit = 20
  ): Promise<IConsistencyReport[]> {
    const params = new URLSearchParams({ limit: String(limit) });
    const page = await this._get<{ reports: IConsistencyReport[] }>(
      `${viewPath(name)}/consistency?${params}`
    );
    return page.reports;
  }

  checkConsistency(name: string, since?: string): Promise<IConsistencyReport> {
    return requestAPI<IConsistencyReport>(
      `${viewPath(name)}/consistency`,
      jsonBody('POST', since ? { since } : {}),
      this._settings
    );
  }

  async listStreams(): Promise<IStreamStatus[]> {
    const page = await this._get<{ streams: IStreamStatus[] }>(
      'features/streams'
    );
    return page.streams;
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, this._settings);
  }

  private _settings: ServerConnection.ISettings | undefined;
}

function viewPath(name: string): string {
  return `features/views/${encodeURIComponent(name)}`;
}
