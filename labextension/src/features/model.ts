import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { asApiError, IActionError, MlopsApiError } from '../request';
import {
  IConsistencyReport,
  IFeaturesApi,
  IFeatureViewDetail,
  IFeatureViewDiff,
  IFeatureViewSummary
} from '../tokens';

/**
 * Feature views asked for per page.
 */
export const PAGE_SIZE = 50;

/**
 * How long typing pauses before the list is searched, in ms.
 */
export const SEARCH_DELAY = 300;

/**
 * Stored consistency reports shown per view (the latest and older ones).
 */
export const CONSISTENCY_REPORTS = 10;

/**
 * The server-side filter of the list: `q` searches names, features,
 * descriptions, tags and owners; `tag` and `owner` match exactly.
 */
export interface IFeaturesFilter {
  q: string;
  tag: string;
  owner: string;
}

/**
 * The view shown in detail; `version` `null` is the latest.
 */
export interface IViewSelection {
  name: string;
  version: number | null;
}

/**
 * The diff between two versions of the selected view.
 */
export type DiffState =
  | { phase: 'none' }
  | { phase: 'loading'; a: number; b: number }
  | { phase: 'ok'; a: number; b: number; diff: IFeatureViewDiff }
  | { phase: 'error'; a: number; b: number; error: MlopsApiError };

/**
 * The online/offline consistency reports of the selected view, and the
 * check running now.
 */
export interface IConsistencyState {
  /**
   * The view the reports are of (reports are per view, not per version).
   */
  view: string | null;
  /**
   * Newest first.
   */
  reports: readonly IConsistencyReport[];
  loaded: boolean;
  loading: boolean;
  error: MlopsApiError | null;
  /**
   * A check ("Check now") is running.
   */
  checking: boolean;
  /**
   * Why the last check failed, shown until dismissed.
   */
  actionError: IActionError | null;
}

/**
 * The outcome of an action (insert, copy), shown until dismissed.
 */
export interface INotice {
  kind: 'success' | 'error';
  message: string;
}

/**
 * Everything the Features view shows. A new object on every change.
 */
export interface IFeaturesState {
  /**
   * The filter as typed; the list follows it after `SEARCH_DELAY`.
   */
  filter: IFeaturesFilter;
  /**
   * A list load is in flight (the last list stays shown meanwhile).
   */
  loading: boolean;
  /**
   * Whether the list has been loaded at least once.
   */
  loaded: boolean;
  /**
   * Why the list could not be loaded.
   */
  error: MlopsApiError | null;
  /**
   * The loaded pages of views, by name.
   */
  views: readonly IFeatureViewSummary[];
  /**
   * How many views match the filter on the server.
   */
  total: number;
  selected: IViewSelection | null;
  /**
   * The selected view's detail; while another version of it loads, the
   * version shown before.
   */
  detail: IFeatureViewDetail | null;
  detailLoading: boolean;
  detailError: MlopsApiError | null;
  diff: DiffState;
  notice: INotice | null;
  consistency: IConsistencyState;
}

/**
 * Puts code into a notebook; resolves to where it went (for the notice),
 * rejects with a message saying what to do when there is no notebook.
 */
export type CodeInserter = (code: string) => Promise<string>;

/**
 * The feature views of the workspace: a searchable, paginated list and
 * the detail of one view (features, versions and their diff, consumers,
 * online/offline consistency).
 *
 * The model does the I/O; views read `state` and call its methods.
 */
export class FeaturesModel implements IDisposable {
  constructor(options: FeaturesModel.IOptions) {
    this._api = options.api;
    this._insertCode = options.insertCode;
    this._searchDelay = options.searchDelay ?? SEARCH_DELAY;
  }

  get state(): IFeaturesState {
    return this._state;
  }

  /**
   * Emitted with the new state whenever it changes.
   */
  get stateChanged(): ISignal<this, IFeaturesState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Reload the loaded pages of the list and the selected view.
   */
  async refresh(): Promise<void> {
    await Promise.all([
      this._loadViews('reload'),
      this._loadDetail(),
      this._loadConsistency()
    ]);
  }

  /**
   * Load the next page of views.
   */
  async loadMore(): Promise<void> {
    await this._loadViews('more');
  }

  /**
   * Change the filter. Typing (`debounce`) searches once it pauses; a
   * click (e.g. on a tag) searches at once.
   */
  setFilter(patch: Partial<IFeaturesFilter>, debounce = false): void {
    this._update({ filter: { ...this._state.filter, ...patch } });
    window.clearTimeout(this._searchTimer);
    if (debounce) {
      this._searchTimer = window.setTimeout(
        () => void this._loadViews('first'),
        this._searchDelay
      );
    } else {
      void this._loadViews('first');
    }
  }

  /**
   * Show a view's latest version in detail, or go back to the list.
   */
  async select(name: string | null): Promise<void> {
    const same = name !== null && name === this._state.selected?.name;
    this._update({
      selected: name === null ? null : { name, version: null },
      detail: same ? this._state.detail : null,
      detailError: null,
      diff: { phase: 'none' },
      notice: null,
      consistency: same ? this._state.consistency : noConsistency(name)
    });
    await Promise.all([this._loadDetail(), this._loadConsistency()]);
  }

  /**
   * Show another version of the selected view.
   */
  async setVersion(version: number): Promise<void> {
    const { selected } = this._state;
    if (!selected) {
      return;
    }
    this._update({ selected: { ...selected, version }, notice: null });
    await this._loadDetail();
  }

  /**
   * Compare two versions of the selected view (`a` before `b`).
   */
  async compare(a: number, b: number): Promise<void> {
    const name = this._state.selected?.name;
    if (!name) {
      return;
    }
    const ticket = ++this._diffTicket;
    this._update({ diff: { phase: 'loading', a, b } });
    let diff: DiffState;
    try {
      diff = { phase: 'ok', a, b, diff: await this._api.diffView(name, a, b) };
    } catch (reason) {
      diff = { phase: 'error', a, b, error: asApiError(reason) };
    }
    if (ticket === this._diffTicket) {
      this._update({ diff });
    }
  }

  /**
   * Insert the shown version's snippet into the active notebook.
   */
  async insertCode(): Promise<void> {
    const snippet = this._state.detail?.snippet;
    if (!snippet) {
      return;
    }
    try {
      const where = await this._insertCode(snippet);
      this.notify({ kind: 'success', message: `Code inserted in ${where}.` });
    } catch (reason) {
      this.notify({ kind: 'error', message: asApiError(reason).message });
    }
  }

  /**
   * Check the selected view's consistency now (the server recomputes the
   * served values offline), then reload its reports.
   */
  async checkConsistency(): Promise<void> {
    const { view, checking, reports } = this._state.consistency;
    if (view === null || checking) {
      return;
    }
    this._setConsistency(view, { checking: true, actionError: null });
    try {
      const report = await this._api.checkConsistency(view);
      if (report.id && report.alert) {
        this._alerts.set(report.id, report.alert);
      }
      // Shown at once; the stored list (with its time) replaces it.
      this._setConsistency(view, {
        reports: [report, ...reports.filter(r => r.id !== report.id)],
        loaded: true
      });
      await this._loadConsistency();
    } catch (reason) {
      this._setConsistency(view, {
        actionError: {
          title: `The consistency of ${view} could not be checked`,
          error: asApiError(reason)
        }
      });
    } finally {
      this._setConsistency(view, { checking: false });
    }
  }

  /**
   * Hide why the last consistency check failed.
   */
  dismissConsistencyError(): void {
    const { view } = this._state.consistency;
    if (view !== null) {
      this._setConsistency(view, { actionError: null });
    }
  }

  notify(notice: INotice | null): void {
    this._update({ notice });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    window.clearTimeout(this._searchTimer);
    Signal.clearData(this);
  }

  /**
   * Load views: `first` the first page (of a new filter), `reload` as many
   * pages as were loaded, `more` the next page.
   */
  private async _loadViews(mode: 'first' | 'reload' | 'more'): Promise<void> {
    const ticket = ++this._listTicket;
    window.clearTimeout(this._searchTimer);
    const { filter, views } = this._state;
    const more = mode === 'more';
    const query = {
      ...filter,
      offset: more ? views.length : 0,
      limit:
        mode === 'reload'
          ? Math.min(Math.max(views.length, PAGE_SIZE), 1000)
          : PAGE_SIZE
    };
    this._update({ loading: true });
    try {
      const page = await this._api.listViews(query);
      if (ticket !== this._listTicket) {
        return;
      }
      this._update({
        views: more ? withoutDuplicates([...views, ...page.views]) : page.views,
        total: page.total,
        loaded: true,
        loading: false,
        error: null
      });
    } catch (reason) {
      if (ticket === this._listTicket) {
        this._update({ loading: false, error: asApiError(reason) });
      }
    }
  }

  /**
   * Load the selected view version, keeping what is shown until it comes.
   */
  private async _loadDetail(): Promise<void> {
    const ticket = ++this._detailTicket;
    const { selected } = this._state;
    if (!selected) {
      this._update({ detail: null, detailLoading: false, detailError: null });
      return;
    }
    this._update({ detailLoading: true });
    try {
      const detail = await this._api.getView(selected.name, selected.version);
      if (ticket === this._detailTicket) {
        this._update({ detail, detailLoading: false, detailError: null });
      }
    } catch (reason) {
      if (ticket === this._detailTicket) {
        this._update({ detailLoading: false, detailError: asApiError(reason) });
      }
    }
  }

  /**
   * Load the selected view's stored consistency reports.
   */
  private async _loadConsistency(): Promise<void> {
    const ticket = ++this._consistencyTicket;
    const { view } = this._state.consistency;
    if (view === null) {
      return;
    }
    this._setConsistency(view, { loading: true });
    try {
      const reports = await this._api.listConsistency(
        view,
        CONSISTENCY_REPORTS
      );
      if (ticket === this._consistencyTicket) {
        // A stored report does not keep the alert its check opened.
        const withAlerts = reports.map(r =>
          r.id && !r.alert && this._alerts.has(r.id)
            ? { ...r, alert: this._alerts.get(r.id) }
            : r
        );
        this._setConsistency(view, {
          reports: withAlerts,
          loaded: true,
          loading: false,
          error: null
        });
      }
    } catch (reason) {
      if (ticket === this._consistencyTicket) {
        this._setConsistency(view, {
          loading: false,
          error: asApiError(reason)
        });
      }
    }
  }

  /**
   * Change the consistency state, unless another view is shown meanwhile.
   */
  private _setConsistency(
    view: string,
    patch: Partial<IConsistencyState>
  ): void {
    const consistency = this._state.consistency;
    if (consistency.view === view) {
      this._update({ consistency: { ...consistency, ...patch } });
    }
  }

  private _update(patch: Partial<IFeaturesState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._stateChanged.emit(this._state);
  }

  private _alerts = new Map<string, string>();
  private _api: IFeaturesApi;
  private _consistencyTicket = 0;
  private _detailTicket = 0;
  private _diffTicket = 0;
  private _insertCode: CodeInserter;
  private _isDisposed = false;
  private _listTicket = 0;
  private _searchDelay: number;
  private _searchTimer = 0;
  private _state: IFeaturesState = {
    filter: { q: '', tag: '', owner: '' },
    loading: false,
    loaded: false,
    error: null,
    views: [],
    total: 0,
    selected: null,
    detail: null,
    detailLoading: false,
    detailError: null,
    diff: { phase: 'none' },
    notice: null,
    consistency: noConsistency(null)
  };
  private _stateChanged = new Signal<this, IFeaturesState>(this);
}

export namespace FeaturesModel {
  export interface IOptions {
    /**
     * The REST API (replaceable in tests).
     */
    api: IFeaturesApi;
    /**
     * Inserts a snippet into the active notebook.
     */
    insertCode: CodeInserter;
    /**
     * Search debounce in ms; defaults to `SEARCH_DELAY`.
     */
    searchDelay?: number;
  }
}

function noConsistency(view: string | null): IConsistencyState {
  return {
    view,
    reports: [],
    loaded: false,
    loading: false,
    error: null,
    checking: false,
    actionError: null
  };
}

function withoutDuplicates(
  views: IFeatureViewSummary[]
): IFeatureViewSummary[] {
  const seen = new Set<string>();
  return views.filter(v => !seen.has(v.name) && seen.add(v.name));
}
