import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { asApiError, IActionError, MlopsApiError } from '../request';
import { pageLimit, SEARCH_DELAY, unique } from './paging';
import {
  ILineageLinks,
  IModelDetail,
  IModelsApi,
  IModelSummary,
  IModelVersionDetail,
  IModelVersionSummary,
  IPromoteRequest
} from './types';

/**
 * Everything the Models view shows. A new object on every change.
 */
export interface IModelsState {
  /**
   * The search as typed; the list follows it after `SEARCH_DELAY`.
   */
  query: string;
  loading: boolean;
  loaded: boolean;
  error: MlopsApiError | null;
  models: readonly IModelSummary[];
  /**
   * How many models match the search on the server.
   */
  total: number;
  /**
   * The model shown in detail, with the pages of versions loaded so far.
   */
  selected: string | null;
  detail: IModelDetail | null;
  detailLoading: boolean;
  detailError: MlopsApiError | null;
  /**
   * The version of `selected` shown in detail.
   */
  version: number | null;
  versionDetail: IModelVersionDetail | null;
  versionLoading: boolean;
  versionError: MlopsApiError | null;
  /**
   * Actions in flight: `promote`, `open:<path>`, `executed:<run>/<stage>`.
   */
  pending: ReadonlySet<string>;
  actionError: IActionError | null;
  /**
   * What the last promotion did, e.g. "champion: v2 → v3".
   */
  notice: string | null;
}

/**
 * The registered models: a searchable, paginated list, a model's versions
 * and alias history, a version's signature and lineage, and promotion.
 *
 * The model does the I/O; views read `state` and call its methods.
 */
export class ModelsModel implements IDisposable {
  constructor(options: ModelsModel.IOptions) {
    this._api = options.api;
    this.links = options.links;
    this._searchDelay = options.searchDelay ?? SEARCH_DELAY;
  }

  /**
   * Where lineage links lead.
   */
  readonly links: ILineageLinks;

  get state(): IModelsState {
    return this._state;
  }

  get stateChanged(): ISignal<this, IModelsState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Reload the list, the shown model and the shown version.
   */
  async refresh(): Promise<void> {
    await Promise.all([
      this._loadModels('reload'),
      this._loadDetail('reload'),
      this._loadVersion()
    ]);
  }

  async loadMore(): Promise<void> {
    await this._loadModels('more');
  }

  async loadMoreVersions(): Promise<void> {
    await this._loadDetail('more');
  }

  /**
   * Search as typed: the list follows once typing pauses.
   */
  setQuery(query: string): void {
    this._update({ query });
    window.clearTimeout(this._searchTimer);
    this._searchTimer = window.setTimeout(
      () => void this._loadModels('first'),
      this._searchDelay
    );
  }

  /**
   * Show a model in detail, or go back to the list.
   */
  async select(name: string | null): Promise<void> {
    const same = name !== null && name === this._state.selected;
    this._update({
      selected: name,
      detail: same ? this._state.detail : null,
      detailError: null,
      version: null,
      versionDetail: null,
      versionError: null,
      notice: null
    });
    await this._loadDetail('first');
  }

  /**
   * Show a version of the selected model, or go back to the model.
   */
  async selectVersion(version: number | null): Promise<void> {
    const same = version !== null && version === this._state.version;
    this._update({
      version,
      versionDetail: same ? this._state.versionDetail : null,
      versionError: null
    });
    await this._loadVersion();
  }

  /**
   * Point an alias of the selected model at a version, then reload what
   * shows aliases. Failures are kept in `actionError`.
   *
   * @returns whether the alias moved
   */
  async promote(request: IPromoteRequest): Promise<boolean> {
    const name = this._state.selected;
    if (!name) {
      return false;
    }
    const done = await this._act('promote', 'The alias was not moved', () =>
      this._api.promote(name, request)
    );
    if (!done) {
      return false;
    }
    const from = done.from === null ? 'none' : `v${done.from}`;
    this._update({ notice: `${done.alias}: ${from} → v${done.to}` });
    await this.refresh();
    return true;
  }

  /**
   * Open the notebook that trained the shown version.
   */
  async openNotebook(path: string): Promise<void> {
    await this._act(`open:${path}`, 'The notebook could not be opened', () =>
      this.links.openNotebook(path, null)
    );
  }

  /**
   * Open the notebook a run's stage executed (as the Runs view does).
   */
  async openExecuted(runId: string, stage: string): Promise<void> {
    await this._act(
      `executed:${runId}/${stage}`,
      'The executed notebook could not be opened',
      async () => {
        const opened = await this._api.openStage(runId, stage);
        await this.links.openNotebook(opened.path, null);
      }
    );
  }

  /** Predict as the model's server would (a version's quick try). */
  readonly predict: IModelsApi['predict'] = (name, request) =>
    this._api.predict(name, request);

  /**
   * A real row of a version's training data, as a prediction request.
   */
  readonly example: IModelsApi['example'] = (name, version) =>
    this._api.example(name, version);

  /**
   * Versions of a model side by side.
   */
  readonly compareVersions: IModelsApi['compare'] = (name, versions) =>
    this._api.compare(name, versions);

  /**
   * A dataset version (a version's training data) in detail.
   */
  readonly dataset: IModelsApi['dataset'] = (name, version) =>
    this._api.dataset(name, version);

  dismiss(): void {
    this._update({ actionError: null, notice: null });
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
   * Load models: `first` the first page (of a new search), `reload` as many
   * as were loaded, `more` the next page.
   */
  private async _loadModels(mode: 'first' | 'reload' | 'more'): Promise<void> {
    const ticket = ++this._listTicket;
    window.clearTimeout(this._searchTimer);
    const { query, models } = this._state;
    const more = mode === 'more';
    this._update({ loading: true });
    try {
      const page = await this._api.listModels({
        q: query,
        offset: more ? models.length : 0,
        limit: pageLimit(mode, models.length)
      });
      if (ticket !== this._listTicket) {
        return;
      }
      this._update({
        models: more
          ? unique([...models, ...page.models], m => m.name)
          : page.models,
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
   * Load the selected model with `first` its first page of versions,
   * `reload` as many as were loaded, `more` the next page.
   */
  private async _loadDetail(mode: 'first' | 'reload' | 'more'): Promise<void> {
    const ticket = ++this._detailTicket;
    const { selected, detail } = this._state;
    if (!selected) {
      this._update({ detail: null, detailLoading: false, detailError: null });
      return;
    }
    const loaded = detail?.name === selected ? detail.versions : [];
    const more = mode === 'more';
    this._update({ detailLoading: true });
    try {
      const next = await this._api.getModel(selected, {
        offset: more ? loaded.length : 0,
        limit: pageLimit(mode, loaded.length)
      });
      if (ticket !== this._detailTicket) {
        return;
      }
      const versions: IModelVersionSummary[] = more
        ? unique([...loaded, ...next.versions], v => String(v.version))
        : next.versions;
      this._update({
        detail: { ...next, versions },
        detailLoading: false,
        detailError: null
      });
    } catch (reason) {
      if (ticket === this._detailTicket) {
        this._update({ detailLoading: false, detailError: asApiError(reason) });
      }
    }
  }

  private async _loadVersion(): Promise<void> {
    const ticket = ++this._versionTicket;
    const { selected, version } = this._state;
    if (!selected || version === null) {
      this._update({ versionDetail: null, versionLoading: false });
      return;
    }
    this._update({ versionLoading: true });
    try {
      const versionDetail = await this._api.getVersion(selected, version);
      if (ticket === this._versionTicket) {
        this._update({
          versionDetail,
          versionLoading: false,
          versionError: null
        });
      }
    } catch (reason) {
      if (ticket === this._versionTicket) {
        this._update({
          versionLoading: false,
          versionError: asApiError(reason)
        });
      }
    }
  }

  /**
   * Run an action once at a time per `key`, keeping its failure.
   */
  private async _act<T>(
    key: string,
    title: string,
    action: () => Promise<T>
  ): Promise<T | null> {
    if (this._state.pending.has(key)) {
      return null;
    }
    this._setPending(key, true);
    this._update({ actionError: null, notice: null });
    try {
      return await action();
    } catch (reason) {
      this._update({ actionError: { title, error: asApiError(reason) } });
      return null;
    } finally {
      this._setPending(key, false);
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

  private _update(patch: Partial<IModelsState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._stateChanged.emit(this._state);
  }

  private _api: IModelsApi;
  private _detailTicket = 0;
  private _isDisposed = false;
  private _listTicket = 0;
  private _searchDelay: number;
  private _searchTimer = 0;
  private _state: IModelsState = {
    query: '',
    loading: false,
    loaded: false,
    error: null,
    models: [],
    total: 0,
    selected: null,
    detail: null,
    detailLoading: false,
    detailError: null,
    version: null,
    versionDetail: null,
    versionLoading: false,
    versionError: null,
    pending: new Set(),
    actionError: null,
    notice: null
  };
  private _stateChanged = new Signal<this, IModelsState>(this);
  private _versionTicket = 0;
}

export namespace ModelsModel {
  export interface IOptions {
    api: IModelsApi;
    links: ILineageLinks;
    /**
     * Search debounce in ms; defaults to `SEARCH_DELAY`.
     */
    searchDelay?: number;
  }
}
