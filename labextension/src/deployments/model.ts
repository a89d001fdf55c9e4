import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { formatShare } from '../format';
import { asApiError, IActionError, MlopsApiError } from '../request';
import {
  IAlert,
  IDeployment,
  IDeploymentHistory,
  IDeploymentsApi
} from './types';

/**
 * How often the view reloads while it is shown, in ms.
 */
export const POLL_INTERVAL = 5000;

/**
 * Everything the Deployments view shows. A new object on every change.
 */
export interface IDeploymentsState {
  loading: boolean;
  loaded: boolean;
  error: MlopsApiError | null;
  /**
   * Running and stopped deployments, newest first.
   */
  deployments: readonly IDeployment[];
  alerts: readonly IAlert[];
  alertsError: MlopsApiError | null;
  /**
   * The id of the deployment shown in detail.
   */
  selected: string | null;
  detail: IDeployment | null;
  detailLoading: boolean;
  detailError: MlopsApiError | null;
  /**
   * The shown deployment's traffic over time, while it runs.
   */
  history: IDeploymentHistory | null;
  historyError: MlopsApiError | null;
  /**
   * Actions in flight: `split`.
   */
  pending: ReadonlySet<string>;
  actionError: IActionError | null;
  /**
   * What the last action did, e.g. "Split 20% → 50%".
   */
  notice: string | null;
}

/**
 * The model servers started with `mlops-lab serve`: their live traffic and
 * versions, moving a canary's split, and the active (open or acknowledged) alerts.
 *
 * The model does the I/O; views read `state` and call its methods. While
 * polling, it reloads every `POLL_INTERVAL` ms.
 */
export class DeploymentsModel implements IDisposable {
  constructor(options: DeploymentsModel.IOptions) {
    this._api = options.api;
    this._interval = options.interval ?? POLL_INTERVAL;
    this.openTab = options.openTab;
  }

  /**
   * Open a deployment's dashboard in a main-area tab, if this model's view
   * can.
   */
  readonly openTab?: (id: string) => void;

  get state(): IDeploymentsState {
    return this._state;
  }

  get stateChanged(): ISignal<this, IDeploymentsState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Reload the deployments, the one shown and the active (open or acknowledged) alerts.
   */
  async refresh(): Promise<void> {
    await Promise.all([
      this._loadList(),
      this._loadAlerts(),
      this._loadDetail()
    ]);
  }

  /**
   * Reload now and then every `interval` ms, until `stopPolling`.
   */
  startPolling(): void {
    void this.refresh();
    window.clearInterval(this._timer);
    this._timer = window.setInterval(() => {
      if (!this._state.loading && !this._state.detailLoading) {
        void this.refresh();
      }
    }, this._interval);
  }

  stopPolling(): void {
    window.clearInterval(this._timer);
    this._timer = 0;
  }

  /**
   * Show a deployment in detail, or go back to the list.
   */
  async select(id: string | null): Promise<void> {
    const known = this._state.deployments.find(d => d.id === id) ?? null;
    const same = id !== null && id === this._state.detail?.id;
    this._update({
      selected: id,
      detail: same ? this._state.detail : known,
      detailError: null,
      history: same ? this._state.history : null,
      historyError: null,
      actionError: null,
      notice: null
    });
    await (id === null ? this._loadList() : this._loadDetail());
  }

  /**
   * Move the shown deployment's challenger share (0 rolls back), then
   * reload it. Failures are kept in `actionError`.
   *
   * @returns whether the server took the new split
   */
  async setSplit(split: number, reason: string): Promise<boolean> {
    const id = this._state.detail?.id;
    if (!id || this._state.pending.has('split')) {
      return false;
    }
    this._setPending('split', true);
    this._update({ actionError: null, notice: null });
    try {
      const change = await this._api.setSplit(id, { split, reason });
      const what = split === 0 ? 'Rolled back' : 'Split';
      this._update({
        notice:
          `${what}: challenger ${formatShare(change.from)} → ` +
          formatShare(change.to)
      });
    } catch (reason) {
      this._update({
        actionError: {
          title: split === 0 ? 'Not rolled back' : 'The split was not changed',
          error: asApiError(reason)
        }
      });
      return false;
    } finally {
      this._setPending('split', false);
    }
    await this._loadDetail();
    return true;
  }

  dismiss(): void {
    this._update({ actionError: null, notice: null });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.stopPolling();
    Signal.clearData(this);
  }

  private async _loadList(): Promise<void> {
    const ticket = ++this._listTicket;
    this._update({ loading: true });
    try {
      const { deployments } = await this._api.listDeployments(true);
      if (ticket === this._listTicket) {
        this._update({
          deployments,
          loaded: true,
          loading: false,
          error: null
        });
      }
    } catch (reason) {
      if (ticket === this._listTicket) {
        this._update({ loading: false, error: asApiError(reason) });
      }
    }
  }

  private async _loadAlerts(): Promise<void> {
    const ticket = ++this._alertsTicket;
    try {
      const { alerts } = await this._api.listActiveAlerts();
      if (ticket === this._alertsTicket) {
        this._update({ alerts, alertsError: null });
      }
    } catch (reason) {
      if (ticket === this._alertsTicket) {
        this._update({ alertsError: asApiError(reason) });
      }
    }
  }

  private async _loadDetail(): Promise<void> {
    const ticket = ++this._detailTicket;
    const id = this._state.selected;
    if (id === null) {
      this._update({ detail: null, detailLoading: false });
      return;
    }
    this._update({ detailLoading: true });
    try {
      const detail = await this._api.getDeployment(id);
      if (ticket === this._detailTicket) {
        this._update({ detail, detailLoading: false, detailError: null });
        await this._loadHistory(detail, ticket);
      }
    } catch (reason) {
      if (ticket === this._detailTicket) {
        this._update({ detailLoading: false, detailError: asApiError(reason) });
      }
    }
  }

  /**
   * The traffic history of a deployment that answers; none otherwise.
   */
  private async _loadHistory(
    detail: IDeployment,
    ticket: number
  ): Promise<void> {
    if (detail.status !== 'running' || !detail.alive) {
      this._update({ history: null, historyError: null });
      return;
    }
    try {
      const history = await this._api.getHistory(detail.id);
      if (ticket === this._detailTicket) {
        this._update({ history, historyError: null });
      }
    } catch (reason) {
      if (ticket === this._detailTicket) {
        this._update({ historyError: asApiError(reason) });
      }
    }
  }

  private _setPending(key: string, on: boolean): void {
    const pending = new Set(this._state.pending);
    if (on) {
      pending.add(key);
    } else {
      pending.delete(key);
    }
    this._update({ pending });
  }

  private _update(patch: Partial<IDeploymentsState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._stateChanged.emit(this._state);
  }

  private _alertsTicket = 0;
  private _api: IDeploymentsApi;
  private _detailTicket = 0;
  private _interval: number;
  private _isDisposed = false;
  private _listTicket = 0;
  private _state: IDeploymentsState = {
    loading: false,
    loaded: false,
    error: null,
    deployments: [],
    alerts: [],
    alertsError: null,
    selected: null,
    detail: null,
    detailLoading: false,
    detailError: null,
    history: null,
    historyError: null,
    pending: new Set(),
    actionError: null,
    notice: null
  };
  private _stateChanged = new Signal<this, IDeploymentsState>(this);
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
