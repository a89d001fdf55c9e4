import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { asApiError, MlopsApiError, requestAPI } from './request';
import { IStatus } from './tokens';

/**
 * What the status model knows at a given moment.
 *
 * `status` keeps the last good payload while a refresh is loading, so views
 * do not flicker; it is cleared when a refresh fails.
 */
export type StatusState =
  | { phase: 'idle'; status: null; error: null }
  | { phase: 'loading'; status: IStatus | null; error: null }
  | { phase: 'ok'; status: IStatus; error: null }
  | { phase: 'error'; status: null; error: MlopsApiError };

/**
 * Holds the workspace status and tells listeners when it changes.
 */
export class StatusModel implements IDisposable {
  constructor(options: StatusModel.IOptions = {}) {
    const settings = options.serverSettings;
    this._fetchStatus =
      options.fetchStatus ??
      (() => requestAPI<IStatus>('status', {}, settings));
  }

  /**
   * The current state.
   */
  get state(): StatusState {
    return this._state;
  }

  /**
   * Emitted with the new state whenever it changes.
   */
  get stateChanged(): ISignal<this, StatusState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Fetch the status again. Concurrent calls are allowed: only the answer
   * to the latest call is kept.
   */
  async refresh(): Promise<void> {
    const ticket = ++this._ticket;
    this._setState({
      phase: 'loading',
      status: this._state.status,
      error: null
    });
    let next: StatusState;
    try {
      next = { phase: 'ok', status: await this._fetchStatus(), error: null };
    } catch (reason) {
      next = { phase: 'error', status: null, error: asApiError(reason) };
    }
    if (ticket === this._ticket) {
      this._setState(next);
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _setState(state: StatusState): void {
    if (this._isDisposed) {
      return;
    }
    this._state = state;
    this._stateChanged.emit(state);
  }

  private _fetchStatus: () => Promise<IStatus>;
  private _isDisposed = false;
  private _state: StatusState = { phase: 'idle', status: null, error: null };
  private _stateChanged = new Signal<this, StatusState>(this);
  private _ticket = 0;
}

export namespace StatusModel {
  export interface IOptions {
    /**
     * Server settings for the default fetcher.
     */
    serverSettings?: ServerConnection.ISettings;
    /**
     * Replace the REST call (e.g. in tests).
     */
    fetchStatus?: () => Promise<IStatus>;
  }
}
