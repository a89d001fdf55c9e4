import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { asApiError, MlopsApiError } from '../request';
import { ILifecycleApi } from './api';
import { ILifecycle } from './types';

/**
 * How often the view loads the lifecycle again while it is shown (ms).
 */
export const LIFECYCLE_POLL_INTERVAL = 10_000;

/**
 * What the Lifecycle view shows: the last good state (kept while a refresh
 * loads, and when a poll fails, so the view does not flicker), and the
 * last error, if any.
 */
export interface ILifecycleState {
  lifecycle: ILifecycle | null;
  error: MlopsApiError | null;
  loading: boolean;
}

/**
 * The lifecycle of the workspace, loaded on demand and polled while a view
 * of it is shown.
 */
export class LifecycleModel implements IDisposable {
  constructor(options: LifecycleModel.IOptions) {
    this.api = options.api;
    this._interval = options.pollInterval ?? LIFECYCLE_POLL_INTERVAL;
  }

  readonly api: ILifecycleApi;

  get state(): ILifecycleState {
    return this._state;
  }

  get stateChanged(): ISignal<this, ILifecycleState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Load the lifecycle again; only the answer to the latest call is kept.
   */
  async refresh(): Promise<void> {
    const ticket = ++this._ticket;
    this._set({ ...this._state, loading: true });
    let next: ILifecycleState;
    try {
      const lifecycle = await this.api.lifecycle();
      next = { lifecycle, error: null, loading: false };
    } catch (reason) {
      next = { ...this._state, error: asApiError(reason), loading: false };
    }
    if (ticket === this._ticket) {
      this._set(next);
    }
  }

  /**
   * Refresh now, then every poll interval until `stopPolling` (a poll is
   * skipped while the last one is in flight).
   */
  startPolling(): void {
    this.stopPolling();
    void this.refresh();
    this._timer = setInterval(() => {
      if (!this._state.loading) {
        void this.refresh();
      }
    }, this._interval);
  }

  stopPolling(): void {
    if (this._timer !== undefined) {
      clearInterval(this._timer);
      this._timer = undefined;
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this.stopPolling();
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _set(state: ILifecycleState): void {
    if (this._isDisposed) {
      return;
    }
    this._state = state;
    this._stateChanged.emit(state);
  }

  private _interval: number;
  private _isDisposed = false;
  private _state: ILifecycleState = {
    lifecycle: null,
    error: null,
    loading: false
  };
  private _stateChanged = new Signal<this, ILifecycleState>(this);
  private _ticket = 0;
  private _timer: ReturnType<typeof setInterval> | undefined;
}

export namespace LifecycleModel {
  export interface IOptions {
    api: ILifecycleApi;
    pollInterval?: number;
  }
}
