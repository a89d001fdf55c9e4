import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IModelSummary } from '../models/types';
import { asApiError, IActionError, MlopsApiError } from '../request';
import { sortColumns } from './sorting';
import {
  DecisionAction,
  IAbTest,
  IAlert,
  IComparison,
  IDriftReport,
  IDriftSummary,
  IEvaluationDetail,
  IEvaluationsApi,
  IEvaluationSummary
} from './types';

/**
 * Something loaded from the server: the last value stays while it reloads.
 */
export interface IRemote<T> {
  value: T | null;
  loading: boolean;
  error: MlopsApiError | null;
}

/**
 * Everything the Evaluations view shows. A new object on every change.
 */
export interface IEvaluationsState {
  /**
   * The models to pick from.
   */
  models: IRemote<IModelSummary[]>;
  /**
   * The picked model.
   */
  model: string | null;
  /**
   * Its evaluations, newest first.
   */
  evaluations: IRemote<IEvaluationSummary[]>;
  evaluationId: string | null;
  evaluation: IRemote<IEvaluationDetail>;
  /**
   * The metric charted over versions; `null` picks the first one.
   */
  metric: string | null;
  comparisons: IRemote<IComparison[]>;
  driftReports: IRemote<IDriftSummary[]>;
  driftId: string | null;
  drift: IRemote<IDriftReport>;
  /**
   * The column of `drift` whose histograms are shown.
   */
  driftColumn: string | null;
  abTests: IRemote<IAbTest[]>;
  /**
   * Active alerts: open and acknowledged.
   */
  alerts: IRemote<IAlert[]>;
  /**
   * The last action's failure, or what it did.
   */
  actionError: IActionError | null;
  notice: string | null;
}

/**
 * The keys of the state that hold something loaded.
 */
type RemoteKey = {
  [K in keyof IEvaluationsState]: IEvaluationsState[K] extends IRemote<any>
    ? K
    : never;
}[keyof IEvaluationsState];

type RemoteValue<K extends RemoteKey> =
  IEvaluationsState[K] extends IRemote<infer T> ? T : never;

function idle<T>(): IRemote<T> {
  return { value: null, loading: false, error: null };
}

/**
 * How a model's evaluations are doing: metrics across versions and
 * datasets, curves of one evaluation, gate decisions, and the workspace's
 * latest drift report, A/B tests and open alerts.
 *
 * The model does the I/O; views read `state` and call its methods.
 */
export class EvaluationsModel implements IDisposable {
  constructor(options: EvaluationsModel.IOptions) {
    this._api = options.api;
  }

  get state(): IEvaluationsState {
    return this._state;
  }

  get stateChanged(): ISignal<this, IEvaluationsState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Reload everything shown, keeping the picks that still exist.
   */
  async refresh(): Promise<void> {
    await Promise.all([
      this._loadModels(),
      this._loadDrift(),
      this._load('abTests', async () => (await this._api.listAbTests()).tests),
      this._load(
        'alerts',
        async () => (await this._api.listActiveAlerts()).alerts
      )
    ]);
  }

  /**
   * Acknowledge or close an alert with a reason (the server records who);
   * the alerts reload either way.
   *
   * @returns whether it was done
   */
  async actOnAlert(
    id: string,
    action: DecisionAction,
    reason: string
  ): Promise<boolean> {
    const done = await this._act(
      `The alert could not be ${action === 'close' ? 'closed' : 'acknowledged'}`,
      async () => {
        await this._api.actOnAlert(id, action, { reason });
        return `Alert ${action === 'close' ? 'closed' : 'acknowledged'}.`;
      }
    );
    await this._load(
      'alerts',
      async () => (await this._api.listActiveAlerts()).alerts
    );
    return done;
  }

  /**
   * Close (archive) an A/B test with a reason.
   */
  async closeAbTest(id: string, reason: string): Promise<boolean> {
    const done = await this._act(
      'The A/B test could not be closed',
      async () => {
        await this._api.closeAbTest(id, { reason });
        return 'A/B test closed.';
      }
    );
    await this._load(
      'abTests',
      async () => (await this._api.listAbTests()).tests
    );
    return done;
  }

  /**
   * Forget the last action's outcome.
   */
  dismissFeedback(): void {
    this._update({ actionError: null, notice: null });
  }

  private async _act(
    title: string,
    work: () => Promise<string>
  ): Promise<boolean> {
    this._update({ actionError: null, notice: null });
    try {
      this._update({ notice: await work() });
      return true;
    } catch (reason) {
      this._update({ actionError: { title, error: asApiError(reason) } });
      return false;
    }
  }

  /**
   * Show another model's evaluations and comparisons.
   */
  async setModel(model: string): Promise<void> {
    if (model === this._state.model) {
      return;
    }
    this._update({
      model,
      evaluations: idle(),
      evaluationId: null,
      evaluation: idle(),
      comparisons: idle(),
      metric: null
    });
    await this._loadModelData();
  }

  /**
   * Show one evaluation's curves, confusion matrix and slices.
   */
  async selectEvaluation(id: string): Promise<void> {
    this._update({ evaluationId: id });
    await this._loadEvaluation();
  }

  setMetric(metric: string): void {
    this._update({ metric });
  }

  /**
   * Show another drift report.
   */
  async selectDrift(id: string): Promise<void> {
    this._update({ driftId: id, driftColumn: null });
    await this._loadDriftReport();
  }

  /**
   * Show a column's reference and current histograms.
   */
  selectDriftColumn(column: string): void {
    this._update({ driftColumn: column });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private async _loadModels(): Promise<void> {
    const models = await this._load(
      'models',
      async () => (await this._api.listModels()).models
    );
    if (!models) {
      return;
    }
    const { model } = this._state;
    if (model !== null && models.some(m => m.name === model)) {
      await this._loadModelData();
    } else if (models.length) {
      this._state = { ...this._state, model: null };
      await this.setModel(models[0].name);
    }
  }

  private async _loadModelData(): Promise<void> {
    const model = this._state.model;
    if (model === null) {
      return;
    }
    await Promise.all([
      this._load('comparisons', async () => {
        const { comparisons } = await this._api.listComparisons(model);
        return newestFirst(comparisons);
      }),
      this._loadEvaluations(model)
    ]);
  }

  private async _loadEvaluations(model: string): Promise<void> {
    const evaluations = await this._load('evaluations', async () => {
      const page = await this._api.listEvaluations(model);
      return newestFirst(page.evaluations);
    });
    if (!evaluations || model !== this._state.model) {
      return;
    }
    const { evaluationId } = this._state;
    if (!evaluations.some(e => e.id === evaluationId)) {
      this._update({ evaluationId: evaluations[0]?.id ?? null });
    }
    await this._loadEvaluation();
  }

  private async _loadEvaluation(): Promise<void> {
    const id = this._state.evaluationId;
    if (id === null) {
      this._update({ evaluation: idle() });
      return;
    }
    await this._load('evaluation', () => this._api.getEvaluation(id));
  }

  private async _loadDrift(): Promise<void> {
    const reports = await this._load('driftReports', async () =>
      newestFirst((await this._api.listDrift()).reports)
    );
    if (!reports) {
      return;
    }
    const { driftId } = this._state;
    if (!reports.some(r => r.id === driftId)) {
      this._update({ driftId: reports[0]?.id ?? null, driftColumn: null });
    }
    await this._loadDriftReport();
  }

  private async _loadDriftReport(): Promise<void> {
    const id = this._state.driftId;
    if (id === null) {
      this._update({ drift: idle() });
      return;
    }
    const report = await this._load('drift', () => this._api.getDrift(id));
    const { driftColumn } = this._state;
    if (report && !report.columns.some(c => c.column === driftColumn)) {
      // The first row of the table as it opens: drifted columns first.
      const first = sortColumns(report.columns, 'drifted', false)[0] ?? null;
      this._update({ driftColumn: first?.column ?? null });
    }
  }

  /**
   * Load one part of the state; a newer load of the same part wins.
   *
   * @returns the value, or `null` if it failed or was superseded
   */
  private async _load<K extends RemoteKey>(
    key: K,
    fetch: () => Promise<RemoteValue<K>>
  ): Promise<RemoteValue<K> | null> {
    const ticket = (this._tickets.get(key) ?? 0) + 1;
    this._tickets.set(key, ticket);
    const current = this._state[key] as IRemote<RemoteValue<K>>;
    this._set(key, { ...current, loading: true });
    try {
      const value = await fetch();
      if (this._tickets.get(key) !== ticket) {
        return null;
      }
      this._set(key, { value, loading: false, error: null });
      return value;
    } catch (reason) {
      if (this._tickets.get(key) === ticket) {
        const error = asApiError(reason);
        this._set(key, { ...current, loading: false, error });
      }
      return null;
    }
  }

  private _set<K extends RemoteKey>(
    key: K,
    remote: IRemote<RemoteValue<K>>
  ): void {
    this._update({ [key]: remote } as Partial<IEvaluationsState>);
  }

  private _update(patch: Partial<IEvaluationsState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._stateChanged.emit(this._state);
  }

  private _api: IEvaluationsApi;
  private _isDisposed = false;
  private _state: IEvaluationsState = {
    models: idle(),
    model: null,
    evaluations: idle(),
    evaluationId: null,
    evaluation: idle(),
    metric: null,
    comparisons: idle(),
    driftReports: idle(),
    driftId: null,
    drift: idle(),
    driftColumn: null,
    abTests: idle(),
    alerts: idle(),
    actionError: null,
    notice: null
  };
  private _stateChanged = new Signal<this, IEvaluationsState>(this);
  private _tickets = new Map<RemoteKey, number>();
}

export namespace EvaluationsModel {
  export interface IOptions {
    api: IEvaluationsApi;
  }
}

function newestFirst<T extends { created_at: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => b.created_at.localeCompare(a.created_at));
}
