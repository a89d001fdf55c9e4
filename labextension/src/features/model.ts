import { asApiError, IActionError, MlopsApiError } from '../request';
import { IPage, ViewModel } from '../viewModel';
import {
  IConsistencyReport,
  IFeaturesApi,
  IFeatureViewDetail,
  IFeatureViewDiff,
  IFeatureViewSummary,
  IStreamStatus
} from './types';

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
 * How often the streamed views reload while the view is shown, in ms.
 */
export const STREAMS_INTERVAL = 2000;

/**
 * The streamed views and how their ingest is doing, reloaded while shown.
 */
export interface IStreamsState {
  items: readonly IStreamStatus[];
  loaded: boolean;
  error: MlopsApiError | null;
}

/**
 * The outcome of an action (insert, copy), shown until dismissed.
 */
export interface INotice {
  kind: 'success' | 'error';
  message: string;
}

/**
 * The Features view's own state; the list (`items`: the loaded pages of
 * views, by name), the view shown in detail (`selected`: its name) and its
 * `detail` are in `IViewState`.
 */
export interface IFeaturesExtra {
  /**
   * The filter as typed; the list follows it after `SEARCH_DELAY`.
   */
  filter: IFeaturesFilter;
  /**
   * The version of the selected view shown; `null` is the latest. While
   * another version loads, `detail` is the version shown before.
   */
  version: number | null;
  diff: DiffState;
  /**
   * What the last insert or copy of code did.
   */
  codeNotice: INotice | null;
  consistency: IConsistencyState;
  streams: IStreamsState;
}

/**
 * Everything the Features view shows. A new object on every change.
 */
export type IFeaturesState = ViewModel.State<
  IFeatureViewSummary,
  IFeatureViewDetail,
  string,
  IFeaturesExtra
>;

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
export class FeaturesModel extends ViewModel<
  IFeatureViewSummary,
  IFeatureViewDetail,
  string,
  IFeaturesExtra
> {
  constructor(options: FeaturesModel.IOptions) {
    super(
      {
        filter: { q: '', tag: '', owner: '' },
        version: null,
        diff: { phase: 'none' },
        codeNotice: null,
        consistency: noConsistency(null),
        streams: { items: [], loaded: false, error: null }
      },
      { searchDelay: options.searchDelay }
    );
    this._api = options.api;
    this._insertCode = options.insertCode;
    this._streamsInterval = options.streamsInterval ?? STREAMS_INTERVAL;
  }

  /**
   * Reload the loaded pages of the list, the selected view and the streams.
   */
  async refresh(): Promise<void> {
    await Promise.all([
      super.refresh(),
      this._loadConsistency(),
      this.loadStreams()
    ]);
  }

  /**
   * Reload the streams (only them) every `streamsInterval` ms, until
   * `stopStreams`; a poll is skipped while the last one is in flight.
   */
  startStreams(): void {
    this.stopStreams();
    this._streamsTimer = setInterval(() => {
      if (!this._streamsPolling) {
        this._streamsPolling = true;
        void this.loadStreams().finally(() => (this._streamsPolling = false));
      }
    }, this._streamsInterval);
  }

  stopStreams(): void {
    clearInterval(this._streamsTimer);
    this._streamsTimer = undefined;
  }

  /**
   * Load the streamed views; only the newest load's answer is kept.
   */
  async loadStreams(): Promise<void> {
    const loaded = await this.latest('streams', () => this._api.listStreams());
    if (loaded) {
      this.update({
        streams: loaded.ok
          ? { items: loaded.value, loaded: true, error: null }
          : { ...this.state.streams, error: loaded.error }
      });
    }
  }

  /**
   * Change the filter. Typing (`debounce`) searches once it pauses; a
   * click (e.g. on a tag) searches at once.
   */
  setFilter(patch: Partial<IFeaturesFilter>, debounce = false): void {
    this.search({ filter: { ...this.state.filter, ...patch } }, debounce);
  }

  /**
   * Show a view's latest version in detail, or go back to the list.
   */
  async select(name: string | null): Promise<void> {
    await Promise.all([super.select(name), this._loadConsistency()]);
  }

  /**
   * Show another version of the selected view.
   */
  async setVersion(version: number): Promise<void> {
    if (this.state.selected === null) {
      return;
    }
    this.update({ version, codeNotice: null });
    await this.loadDetail();
  }

  /**
   * Compare two versions of the selected view (`a` before `b`).
   */
  async compare(a: number, b: number): Promise<void> {
    const name = this.state.selected;
    if (!name) {
      return;
    }
    this.update({ diff: { phase: 'loading', a, b } });
    const loaded = await this.latest('diff', () =>
      this._api.diffView(name, a, b)
    );
    if (loaded) {
      this.update({
        diff: loaded.ok
          ? { phase: 'ok', a, b, diff: loaded.value }
          : { phase: 'error', a, b, error: loaded.error }
      });
    }
  }

  /**
   * Insert the shown version's snippet into the active notebook.
   */
  async insertCode(): Promise<void> {
    const snippet = this.state.detail?.snippet;
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
    const { view, checking, reports } = this.state.consistency;
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
    const { view } = this.state.consistency;
    if (view !== null) {
      this._setConsistency(view, { actionError: null });
    }
  }

  notify(codeNotice: INotice | null): void {
    this.update({ codeNotice });
  }

  protected onSelect(
    name: string | null,
    same: boolean
  ): Partial<IFeaturesState> {
    return {
      version: null,
      diff: { phase: 'none' },
      codeNotice: null,
      consistency: same ? this.state.consistency : noConsistency(name)
    };
  }

  protected onDispose(): void {
    this.stopStreams();
  }

  protected itemKey(view: IFeatureViewSummary): string {
    return view.name;
  }

  protected async fetchPage(query: {
    offset: number;
    limit: number;
  }): Promise<IPage<IFeatureViewSummary>> {
    const page = await this._api.listViews({ ...this.state.filter, ...query });
    return { items: page.views, total: page.total };
  }

  protected fetchDetail(name: string): Promise<IFeatureViewDetail> {
    return this._api.getView(name, this.state.version);
  }

  /**
   * Load the selected view's stored consistency reports.
   */
  private async _loadConsistency(): Promise<void> {
    const { view } = this.state.consistency;
    if (view === null) {
      return;
    }
    this._setConsistency(view, { loading: true });
    const loaded = await this.latest('consistency', () =>
      this._api.listConsistency(view, CONSISTENCY_REPORTS)
    );
    if (loaded && !loaded.ok) {
      this._setConsistency(view, { loading: false, error: loaded.error });
    } else if (loaded) {
      // A stored report does not keep the alert its check opened.
      const reports = loaded.value.map(r =>
        r.id && !r.alert && this._alerts.has(r.id)
          ? { ...r, alert: this._alerts.get(r.id) }
          : r
      );
      this._setConsistency(view, {
        reports,
        loaded: true,
        loading: false,
        error: null
      });
    }
  }

  /**
   * Change the consistency state, unless another view is shown meanwhile.
   */
  private _setConsistency(
    view: string,
    patch: Partial<IConsistencyState>
  ): void {
    const consistency = this.state.consistency;
    if (consistency.view === view) {
      this.update({ consistency: { ...consistency, ...patch } });
    }
  }

  private _alerts = new Map<string, string>();
  private _api: IFeaturesApi;
  private _insertCode: CodeInserter;
  private _streamsInterval: number;
  private _streamsPolling = false;
  private _streamsTimer: ReturnType<typeof setInterval> | undefined;
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
    /**
     * Streams reload interval in ms; defaults to `STREAMS_INTERVAL`.
     */
    streamsInterval?: number;
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
