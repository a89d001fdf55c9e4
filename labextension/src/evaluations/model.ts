import { IModelSummary } from '../models/types';
import { IPage, IRemote, ViewModel } from '../viewModel';
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
 * The Evaluations view's own state. In `IViewState`: the models to pick
 * from (`items`), the evaluation shown (`selected`: its id) and its
 * `detail` (curves, confusion matrix, slices).
 */
export interface IEvaluationsExtra {
  /**
   * The picked model.
   */
  model: string | null;
  /**
   * Its evaluations, newest first.
   */
  evaluations: IRemote<IEvaluationSummary[]>;
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
}

/**
 * Everything the Evaluations view shows. A new object on every change.
 */
export type IEvaluationsState = ViewModel.State<
  IModelSummary,
  IEvaluationDetail,
  string,
  IEvaluationsExtra
>;

/**
 * The keys of the state that hold something loaded.
 */
type RemoteKey = {
  [K in keyof IEvaluationsExtra]: IEvaluationsExtra[K] extends IRemote<any>
    ? K
    : never;
}[keyof IEvaluationsExtra];

type RemoteValue<K extends RemoteKey> =
  IEvaluationsExtra[K] extends IRemote<infer T> ? T : never;

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
export class EvaluationsModel extends ViewModel<
  IModelSummary,
  IEvaluationDetail,
  string,
  IEvaluationsExtra
> {
  constructor(options: EvaluationsModel.IOptions) {
    super({
      model: null,
      evaluations: idle(),
      metric: null,
      comparisons: idle(),
      driftReports: idle(),
      driftId: null,
      drift: idle(),
      driftColumn: null,
      abTests: idle(),
      alerts: idle()
    });
    this._api = options.api;
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
    this.dismiss();
  }

  private async _act(
    title: string,
    work: () => Promise<string>
  ): Promise<boolean> {
    const notice = await this.act(title, title, work);
    if (notice !== null) {
      this.update({ notice });
    }
    return notice !== null;
  }

  /**
   * Show another model's evaluations and comparisons.
   */
  async setModel(model: string): Promise<void> {
    if (model === this.state.model) {
      return;
    }
    this.update({
      model,
      evaluations: idle(),
      selected: null,
      detail: null,
      detailError: null,
      comparisons: idle(),
      metric: null
    });
    await this._loadModelData();
  }

  /**
   * Show one evaluation's curves, confusion matrix and slices.
   */
  async selectEvaluation(id: string): Promise<void> {
    await this.select(id);
  }

  setMetric(metric: string): void {
    this.update({ metric });
  }

  /**
   * Show another drift report.
   */
  async selectDrift(id: string): Promise<void> {
    this.update({ driftId: id, driftColumn: null });
    await this._loadDriftReport();
  }

  /**
   * Show a column's reference and current histograms.
   */
  selectDriftColumn(column: string): void {
    this.update({ driftColumn: column });
  }

  /**
   * The evaluation shown stays (marked busy) until the next one comes.
   */
  protected onSelect(): Partial<IEvaluationsState> {
    return { detail: this.state.detail };
  }

  protected itemKey(model: IModelSummary): string {
    return model.name;
  }

  protected async fetchPage(): Promise<IPage<IModelSummary>> {
    const { models } = await this._api.listModels();
    return { items: models, total: models.length };
  }

  protected fetchDetail(id: string): Promise<IEvaluationDetail> {
    return this._api.getEvaluation(id);
  }

  private async _loadModels(): Promise<void> {
    if (!(await this.loadList('reload')) || this.state.error) {
      return;
    }
    const { model, items } = this.state;
    if (model !== null && items.some(m => m.name === model)) {
      await this._loadModelData();
    } else if (items.length) {
      this.update({ model: null });
      await this.setModel(items[0].name);
    }
  }

  private async _loadModelData(): Promise<void> {
    const model = this.state.model;
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
    if (!evaluations || model !== this.state.model) {
      return;
    }
    const { selected } = this.state;
    if (!evaluations.some(e => e.id === selected)) {
      this.update({ selected: evaluations[0]?.id ?? null });
    }
    await this.loadDetail();
  }

  private async _loadDrift(): Promise<void> {
    const reports = await this._load('driftReports', async () =>
      newestFirst((await this._api.listDrift()).reports)
    );
    if (!reports) {
      return;
    }
    const { driftId } = this.state;
    if (!reports.some(r => r.id === driftId)) {
      this.update({ driftId: reports[0]?.id ?? null, driftColumn: null });
    }
    await this._loadDriftReport();
  }

  private async _loadDriftReport(): Promise<void> {
    const id = this.state.driftId;
    if (id === null) {
      this.update({ drift: idle() });
      return;
    }
    const report = await this._load('drift', () => this._api.getDrift(id));
    const { driftColumn } = this.state;
    if (report && !report.columns.some(c => c.column === driftColumn)) {
      // The first row of the table as it opens: drifted columns first.
      const first = sortColumns(report.columns, 'drifted', false)[0] ?? null;
      this.update({ driftColumn: first?.column ?? null });
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
    const current = this.state[key] as IRemote<RemoteValue<K>>;
    this._set(key, { ...current, loading: true });
    const loaded = await this.latest(key, fetch);
    if (!loaded) {
      return null;
    }
    this._set(
      key,
      loaded.ok
        ? { value: loaded.value, loading: false, error: null }
        : { ...current, loading: false, error: loaded.error }
    );
    return loaded.ok ? loaded.value : null;
  }

  private _set<K extends RemoteKey>(
    key: K,
    remote: IRemote<RemoteValue<K>>
  ): void {
    this.update({ [key]: remote } as Partial<IEvaluationsState>);
  }

  private _api: IEvaluationsApi;
}

export namespace EvaluationsModel {
  export interface IOptions {
    api: IEvaluationsApi;
  }
}

function newestFirst<T extends { created_at: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => b.created_at.localeCompare(a.created_at));
}
