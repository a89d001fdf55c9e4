import { ServerConnection } from '@jupyterlab/services';

import { jsonBody, requestAPI } from '../request';
import {
  IAlert,
  IDeployment,
  IDeploymentHistory,
  IDeploymentRollouts,
  IDeploymentsApi,
  ISplitChange,
  ISplitRequest,
  IStartRolloutRequest,
  RolloutAction
} from './types';

/**
 * The deployment routes of the mlops-lab REST API, and the active alerts.
 */
export class DeploymentsApi implements IDeploymentsApi {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings ?? ServerConnection.makeSettings();
  }

  listDeployments(all: boolean): Promise<{ deployments: IDeployment[] }> {
    return this._get(all ? 'deployments?all=true' : 'deployments');
  }

  getDeployment(id: string): Promise<IDeployment> {
    return this._get(deploymentPath(id));
  }

  getHistory(id: string): Promise<IDeploymentHistory> {
    return this._get(`${deploymentPath(id)}/history`);
  }

  setSplit(id: string, request: ISplitRequest): Promise<ISplitChange> {
    return requestAPI(
      `${deploymentPath(id)}/split`,
      jsonBody('POST', request),
      this._settings
    );
  }

  getRollouts(id: string): Promise<IDeploymentRollouts> {
    return this._get(`${deploymentPath(id)}/rollouts`);
  }

  startRollout(
    id: string,
    request: IStartRolloutRequest
  ): Promise<{ rollout_id: string }> {
    return requestAPI(
      `${deploymentPath(id)}/rollouts`,
      jsonBody('POST', request),
      this._settings
    );
  }

  controlRollout(
    rolloutId: string,
    action: RolloutAction
  ): Promise<{ requested: RolloutAction; by: string }> {
    return requestAPI(
      `rollouts/${encodeURIComponent(rolloutId)}/${action}`,
      jsonBody('POST', {}),
      this._settings
    );
  }

  /**
   * The alerts still to act on: open or acknowledged (not closed).
   */
  listActiveAlerts(): Promise<{ alerts: IAlert[] }> {
    return this._get('alerts?status=active');
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, {}, this._settings);
  }

  private _settings: ServerConnection.ISettings;
}

function deploymentPath(id: string): string {
  return `deployments/${encodeURIComponent(id)}`;
}
