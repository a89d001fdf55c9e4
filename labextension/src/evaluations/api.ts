import { ServerConnection } from '@jupyterlab/services';

import { IModelPage } from '../models/types';
import { jsonBody, requestAPI } from '../request';
import {
  DecisionAction,
  IAbTest,
  IAlert,
  IComparison,
  IDriftPage,
  IDriftReport,
  IEvaluationDetail,
  IEvaluationPage,
  IEvaluationsApi,
  IReasonRequest
} from './types';

/**
 * Models offered in the picker; more than that is a search, not a list.
 */
const MODELS_LIMIT = 200;

/**
 * Evaluations of one model shown at most (its metrics table).
 */
const EVALUATIONS_LIMIT = 100;

/**
 * Drift reports listed (the picker of reports).
 */
const DRIFT_LIMIT = 20;

/**
 * The evaluation, comparison, drift, A/B test and alert routes.
 */
export class EvaluationsApi implements IEvaluationsApi {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings;
  }

  listModels(): Promise<IModelPage> {
    return this._get(`models?limit=${MODELS_LIMIT}&offset=0`);
  }

  listEvaluations(model: string): Promise<IEvaluationPage> {
    const params = new URLSearchParams({
      model,
      limit: String(EVALUATIONS_LIMIT),
      offset: '0'
    });
    return this._get(`evaluations?${params}`);
  }

  getEvaluation(id: string): Promise<IEvaluationDetail> {
    return this._get(`evaluations/${encodeURIComponent(id)}`);
  }

  listComparisons(model: string): Promise<{ comparisons: IComparison[] }> {
    return this._get(`comparisons?${new URLSearchParams({ model })}`);
  }

  listDrift(): Promise<IDriftPage> {
    return this._get(`drift?limit=${DRIFT_LIMIT}&offset=0`);
  }

  getDrift(id: string): Promise<IDriftReport> {
    return this._get(`drift/${encodeURIComponent(id)}`);
  }

  listAbTests(): Promise<{ tests: IAbTest[] }> {
    return this._get('ab-tests');
  }

  listActiveAlerts(): Promise<{ alerts: IAlert[] }> {
    return this._get('alerts?status=active');
  }

  actOnAlert(
    id: string,
    action: DecisionAction,
    request: IReasonRequest
  ): Promise<IAlert> {
    return requestAPI(
      `alerts/${encodeURIComponent(id)}/${action}`,
      jsonBody('POST', request),
      this._settings
    );
  }

  closeAbTest(id: string, request: IReasonRequest): Promise<IAbTest> {
    return requestAPI(
      `ab-tests/${encodeURIComponent(id)}/close`,
      jsonBody('POST', request),
      this._settings
    );
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, this._settings);
  }

  private _settings: ServerConnection.ISettings | undefined;
}
