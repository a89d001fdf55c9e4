import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { asApiError, MlopsApiError } from '../request';
import {
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
}

/**
 * Puts code into a notebook; resolves to where it went (for the notice),
 * rejects with a message saying what to do when there is no notebook.
 */
export type CodeInserter = (code: string) => Promise<string>;

/**
 * The feature views of the workspace: a searchable, paginated list and
 * the detail of one view (features, versions and their diff, consumers).
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
    await Promise.all([this._loadViews('reload'), this._loadDetail()]);
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
      notice: null
    });
    await this._loadDetail();
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

  private _update(patch: Partial<IFeaturesState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._stateChanged.emit(this._state);
  }

  private _api: IFeaturesApi;
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
    notice: null
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

function withoutDuplicates(
  views: IFeatureViewSummary[]
): IFeatureViewSummary[] {
  const seen = new Set<string>();
  return views.filter(v => !seen.has(v.name) && seen.add(v.name));
}
