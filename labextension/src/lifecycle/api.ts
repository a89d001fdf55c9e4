import { ServerConnection } from '@jupyterlab/services';

import { jsonBody, MlopsApiError, requestAPI } from '../request';
import { ILifecycle, IProject, IProjectSpec, IValidation } from './types';

/**
 * What the Lifecycle view asks the server (replaced by fakes in tests).
 */
export interface ILifecycleApi {
  lifecycle(): Promise<ILifecycle>;
  project(): Promise<IProject>;
  validate(project: IProjectSpec): Promise<IValidation>;
  save(project: IProjectSpec): Promise<IProject>;
  comparison(id: string, model?: string): Promise<IGateComparison | null>;
}

/**
 * What the view needs of a gate decision to open its versions side by side.
 */
export interface IGateComparison {
  id: string;
  model: string;
  baseline: number;
  candidate: number;
}

/**
 * The lifecycle and project routes of the mlops-lab REST API.
 */
export class LifecycleApi implements ILifecycleApi {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings ?? ServerConnection.makeSettings();
  }

  lifecycle(): Promise<ILifecycle> {
    return requestAPI('lifecycle', {}, this._settings);
  }

  project(): Promise<IProject> {
    return requestAPI('project', {}, this._settings);
  }

  validate(project: IProjectSpec): Promise<IValidation> {
    return requestAPI(
      'project/validate',
      jsonBody('POST', { project }),
      this._settings
    );
  }

  /**
   * Write the definition back to `mlops_lab.yaml` (comments kept); a 422
   * carries the problems (see `savedProblems`).
   */
  save(project: IProjectSpec): Promise<IProject> {
    return requestAPI('project', jsonBody('PUT', { project }), this._settings);
  }

  /**
   * A gate decision by id (of `model`'s when known), or null.
   */
  async comparison(
    id: string,
    model?: string
  ): Promise<IGateComparison | null> {
    const query = model ? `?${new URLSearchParams({ model })}` : '';
    const { comparisons } = await requestAPI<{
      comparisons: IGateComparison[];
    }>(`comparisons${query}`, {}, this._settings);
    return comparisons.find(c => c.id === id) ?? null;
  }

  private _settings: ServerConnection.ISettings;
}

/**
 * The problems a refused save reports, each `field.path: what is wrong`:
 * the error's `problems`, else its `fields`, else its message (`project:
 * p1; p2`, as `InvalidFieldError` words them) split into problems.
 */
export function savedProblems(error: MlopsApiError): string[] {
  const { problems, fields } = error.details as {
    problems?: unknown;
    fields?: unknown;
  };
  if (Array.isArray(problems) && problems.every(p => typeof p === 'string')) {
    return problems as string[];
  }
  if (Array.isArray(fields)) {
    return (fields as { field?: unknown; reason?: unknown }[]).map(
      f => `${String(f.field)}: ${String(f.reason)}`
    );
  }
  return error.message
    .replace(/^project:\s*(?=project[.[:])/, '')
    .split(/;\s*(?=project[.[:])/);
}
