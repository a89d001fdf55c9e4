import { formatShare } from '../format';
import { MlopsApiError } from '../request';
import { IPage, ViewModel } from '../viewModel';
import {
  IAlert,
  IDeployment,
  IDeploymentHistory,
  IDeploymentRollouts,
  IDeploymentsApi,
  IStartRolloutRequest,
  RolloutAction
} from './types';

/**
 * How often the view reloads while it is shown, in ms.
 */
export const POLL_INTERVAL = 5000;

/**
 * The Deployments view's own state; the list (`items`: running and
 * stopped deployments, newest first), the selected deployment's id and its
 * `detail` are in `IViewState`.
 */
export interface IDeploymentsExtra {
  alerts: readonly IAlert[];
  alertsError: MlopsApiError | null;
  /**
   * The shown deployment's traffic over time, while it runs.
   */
  history: IDeploymentHistory | null;
  historyError: MlopsApiError | null;
  /**
   * The shown deployment's progressive rollouts, the newest with its
   * decisions.
   */
  rollouts: IDeploymentRollouts | null;
  rolloutsError: MlopsApiError | null;
}

/**
 * Everything the Deployments view shows. A new object on every change.
 * Actions in flight (`pending`): `split`, `rollout`; `notice` says what the
 * last one did, e.g. "Split 20% → 50%".
 */
export type IDeploymentsState = ViewModel.State<
  IDeployment,
  IDeployment,
  string,
  IDeploymentsExtra
>;

/**
 * The model servers started with `mlops-lab serve`: their live traffic and
 * versions, moving a canary's split, and the active (open or acknowledged) alerts.
 *
 * The model does the I/O; views read `state` and call its methods. While
 * polling, it reloads every `POLL_INTERVAL` ms.
 */
export class DeploymentsModel extends ViewModel<
  IDeployment,
  IDeployment,
  string,
  IDeploymentsExtra
> {
  constructor(options: DeploymentsModel.IOptions) {
    super({
      alerts: [],
      alertsError: null,
      history: null,
      historyError: null,
      rollouts: null,
      rolloutsError: null
    });
    this._api = options.api;
    this._interval = options.interval ?? POLL_INTERVAL;
    this.openTab = options.openTab;
  }

  /**
   * Open a deployment's dashboard in a main-area tab, if this model's view
   * can.
   */
  readonly openTab?: (id: string) => void;

  /**
   * Reload the deployments, the one shown and the active (open or acknowledged) alerts.
   */
  async refresh(): Promise<void> {
    await Promise.all([super.refresh(), this._loadAlerts()]);
  }

  /**
   * Reload now and then every `interval` ms, until `stopPolling`.
   */
  startPolling(): void {
    void this.refresh();
    window.clearInterval(this._timer);
    this._timer = window.setInterval(() => {
      if (!this.state.loading && !this.state.detailLoading) {
        void this.refresh();
      }
    }, this._interval);
  }

  stopPolling(): void {
    window.clearInterval(this._timer);
    this._timer = 0;
  }

  /**
   * Show a deployment in detail, or go back to the list (reloading it).
   */
  async select(id: string | null): Promise<void> {
    await Promise.all([
      super.select(id),
      id === null ? this.loadList('reload') : null
    ]);
  }

  /**
   * Move the shown deployment's challenger share (0 rolls back), then
   * reload it. Failures are kept in `actionError`.
   *
   * @returns whether the server took the new split
   */
  async setSplit(split: number, reason: string): Promise<boolean> {
    const id = this.state.detail?.id;
    if (!id) {
      return false;
    }
    const change = await this.act(
      'split',
      split === 0 ? 'Not rolled back' : 'The split was not changed',
      () => this._api.setSplit(id, { split, reason })
    );
    if (!change) {
      return false;
    }
    const what = split === 0 ? 'Rolled back' : 'Split';
    this.update({
      notice:
        `${what}: challenger ${formatShare(change.from)} → ` +
        formatShare(change.to)
    });
    await this.loadDetail();
    return true;
  }

  /**
   * Start a progressive rollout of the shown deployment's challenger (its
   * controller runs on the server), then reload it.
   */
  async startRollout(request: IStartRolloutRequest): Promise<boolean> {
    const id = this.state.detail?.id;
    if (!id) {
      return false;
    }
    const started = await this.act('rollout', 'The rollout did not start', () =>
      this._api.startRollout(id, request)
    );
    if (!started) {
      return false;
    }
    this.update({ notice: `Rollout ${started.rollout_id} started` });
    await this.loadDetail();
    return true;
  }

  /**
   * Ask the shown rollout's controller to pause, resume or abort (it acts
   * within a second), then reload.
   */
  async controlRollout(action: RolloutAction): Promise<boolean> {
    const rollout = this.state.rollouts?.current;
    if (!rollout) {
      return false;
    }
    const done = await this.act('rollout', `Could not ${action}`, () =>
      this._api.controlRollout(rollout.id, action)
    );
    if (!done) {
      return false;
    }
    this.update({ notice: `Rollout ${rollout.id}: ${action} requested` });
    await this.loadDetail();
    return true;
  }

  protected onSelect(
    id: string | null,
    same: boolean
  ): Partial<IDeploymentsState> {
    return {
      history: same ? this.state.history : null,
      historyError: null,
      rollouts: same ? this.state.rollouts : null,
      rolloutsError: null,
      actionError: null,
      notice: null
    };
  }

  protected known(id: string): IDeployment | null {
    return this.state.items.find(d => d.id === id) ?? null;
  }

  protected itemKey(deployment: IDeployment): string {
    return deployment.id;
  }

  protected async fetchPage(): Promise<IPage<IDeployment>> {
    const { deployments } = await this._api.listDeployments(true);
    return { items: deployments, total: deployments.length };
  }

  protected fetchDetail(id: string): Promise<IDeployment> {
    return this._api.getDeployment(id);
  }

  /**
   * Load the shown deployment, then its rollouts, and its traffic history if
   * it answers.
   */
  protected async loadDetail(): Promise<IDeployment | null> {
    const history = this.bump('history');
    const detail = await super.loadDetail();
    if (!detail || !history()) {
      return detail;
    }
    // Side by side: the history right after the detail said the server runs.
    await Promise.all([this._loadHistory(detail), this._loadRollouts(detail)]);
    return detail;
  }

  protected onDispose(): void {
    this.stopPolling();
  }

  private async _loadHistory(detail: IDeployment): Promise<void> {
    if (detail.status !== 'running' || !detail.alive) {
      this.update({ history: null, historyError: null });
      return;
    }
    const loaded = await this.latest('history', () =>
      this._api.getHistory(detail.id)
    );
    if (loaded) {
      this.update(
        loaded.ok
          ? { history: loaded.value, historyError: null }
          : { historyError: loaded.error }
      );
    }
  }

  private async _loadRollouts(detail: IDeployment): Promise<void> {
    const loaded = await this.latest('rollouts', () =>
      this._api.getRollouts(detail.id)
    );
    if (loaded) {
      this.update(
        loaded.ok
          ? { rollouts: loaded.value, rolloutsError: null }
          : { rolloutsError: loaded.error }
      );
    }
  }

  private async _loadAlerts(): Promise<void> {
    const loaded = await this.latest('alerts', () =>
      this._api.listActiveAlerts()
    );
    if (loaded) {
      this.update(
        loaded.ok
          ? { alerts: loaded.value.alerts, alertsError: null }
          : { alertsError: loaded.error }
      );
    }
  }

  private _api: IDeploymentsApi;
  private _interval: number;
  private _timer = 0;
}

export namespace DeploymentsModel {
  export interface IOptions {
    api: IDeploymentsApi;
    /**
     * Ms between reloads while polling; defaults to `POLL_INTERVAL`.
     */
    interval?: number;
    /**
     * Open a deployment in a main-area tab (absent inside that tab).
     */
    openTab?: (id: string) => void;
  }
}
