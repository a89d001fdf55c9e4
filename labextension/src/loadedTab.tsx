import { ReactWidget } from '@jupyterlab/apputils';
import { refreshIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice } from './components';
import { asApiError, MlopsApiError } from './request';

/**
 * What a loaded tab shows: its item, or why it could not be loaded.
 */
export interface ILoadedState<T> {
  value: T | null;
  error: MlopsApiError | null;
  loading: boolean;
}

/**
 * The content of a main-area tab that shows one item loaded from the REST
 * API by its key (so it works after a page reload, the sidebar unopened):
 * a header with the item's title and a refresh button, then the item,
 * laid out wide.
 */
export class LoadedTab<T> extends ReactWidget {
  constructor(options: LoadedTab.IOptions<T>) {
    super();
    this._options = options;
    this.addClass('jp-mlops-tab');
    this.node.dataset.testid = options.testid;
    this._retitle();
    void this.reload();
  }

  get state(): ILoadedState<T> {
    return this._state;
  }

  /**
   * Load the item again.
   */
  async reload(): Promise<void> {
    const ticket = ++this._ticket;
    this._set({ ...this._state, loading: true });
    let next: ILoadedState<T>;
    try {
      next = { value: await this._options.load(), error: null, loading: false };
    } catch (reason) {
      next = { ...this._state, error: asApiError(reason), loading: false };
    }
    if (ticket === this._ticket) {
      this._set(next);
    }
  }

  protected render(): JSX.Element {
    const { value, error, loading } = this._state;
    const { heading, what } = this._options;
    return (
      <div className="jp-mlops-tab-body" aria-busy={loading}>
        <div className="jp-mlops-tab-header">
          <h2 className="jp-mlops-tab-title" data-testid="mlops-tab-title">
            {this.title.label}
          </h2>
          {heading && value !== null && heading(value)}
          <ToolbarButtonComponent
            icon={refreshIcon}
            tooltip="Refresh"
            dataset={{ testid: 'mlops-tab-refresh' }}
            onClick={() => void this.reload()}
          />
        </div>
        {error && (
          <ErrorNotice
            error={error}
            title={`The ${what} could not be loaded`}
            testid="mlops-tab-error"
          />
        )}
        {value === null && loading && (
          <p className="jp-mlops-placeholder">Loading…</p>
        )}
        {value !== null && this._options.render(value, this)}
      </div>
    );
  }

  private _set(state: ILoadedState<T>): void {
    if (this.isDisposed) {
      return;
    }
    this._state = state;
    this._retitle();
    this.update();
  }

  private _retitle(): void {
    const { label, caption } = this._options.title(this._state.value);
    this.title.label = label;
    this.title.caption = caption ?? label;
  }

  private _options: LoadedTab.IOptions<T>;
  private _state: ILoadedState<T> = { value: null, error: null, loading: true };
  private _ticket = 0;
}

export namespace LoadedTab {
  export interface IOptions<T> {
    /**
     * Load the item (by the key the tab was opened with).
     */
    load: () => Promise<T>;
    /**
     * The tab's title: before loading (`null`) and once loaded.
     */
    title: (value: T | null) => { label: string; caption?: string };
    /**
     * The item's view.
     */
    render: (value: T, tab: LoadedTab<T>) => React.ReactNode;
    /**
     * Extra header content (e.g. a status badge), once loaded.
     */
    heading?: (value: T) => React.ReactNode;
    /**
     * What the item is, for the error's title ("evaluation").
     */
    what: string;
    /**
     * The content's `data-testid`.
     */
    testid: string;
  }
}
