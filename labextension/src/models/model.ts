import { MlopsApiError } from '../request';
import { IPage, LoadMode, pageLimit, unique, ViewModel } from '../viewModel';
import {
  ILineageLinks,
  IModelDetail,
  IModelsApi,
  IModelSummary,
  IModelVersionDetail,
  IPromoteRequest
} from './types';

/**
 * The Models view's own state; the list (`items`), the model shown in
 * detail (`selected`: its name) and its `detail` (with the pages of
 * versions loaded so far) are in `IViewState`.
 */
export interface IModelsExtra {
  /**
   * The search as typed; the list follows it after `SEARCH_DELAY`.
   */
  query: string;
  /**
   * The version of `selected` shown in detail.
   */
  version: number | null;
  versionDetail: IModelVersionDetail | null;
  versionLoading: boolean;
  versionError: MlopsApiError | null;
}

/**
 * Everything the Models view shows. A new object on every change.
 * Actions in flight (`pending`): `promote`, `open:<path>`,
 * `executed:<run>/<stage>`; `notice` says what the last promotion did,
 * e.g. "champion: v2 → v3".
 */
export type IModelsState = ViewModel.State<
  IModelSummary,
  IModelDetail,
  string,
  IModelsExtra
>;

/**
 * The registered models: a searchable, paginated list, a model's versions
 * and alias history, a version's signature and lineage, and promotion.
 *
 * The model does the I/O; views read `state` and call its methods.
 */
export class ModelsModel extends ViewModel<
  IModelSummary,
  IModelDetail,
  string,
  IModelsExtra
> {
  constructor(options: ModelsModel.IOptions) {
    super(
      {
        query: '',
        version: null,
        versionDetail: null,
        versionLoading: false,
        versionError: null
      },
      { searchDelay: options.searchDelay }
    );
    this._api = options.api;
    this.links = options.links;
  }

  /**
   * Where lineage links lead.
   */
  readonly links: ILineageLinks;

  /**
   * Reload the list, the shown model (as many versions as are shown) and
   * the shown version.
   */
  async refresh(): Promise<void> {
    await Promise.all([
      this.loadList('reload'),
      this.loadDetail(name => this._fetchModel(name, 'reload')),
      this._loadVersion()
    ]);
  }

  async loadMoreVersions(): Promise<void> {
    await this.loadDetail(name => this._fetchModel(name, 'more'));
  }

  /**
   * Search as typed: the list follows once typing pauses.
   */
  setQuery(query: string): void {
    this.search({ query }, true);
  }

  /**
   * Show a version of the selected model, or go back to the model.
   */
  async selectVersion(version: number | null): Promise<void> {
    const same = version !== null && version === this.state.version;
    this.update({
      version,
      versionDetail: same ? this.state.versionDetail : null,
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
    const name = this.state.selected;
    if (!name) {
      return false;
    }
    const done = await this.act('promote', 'The alias was not moved', () =>
      this._api.promote(name, request)
    );
    if (!done) {
      return false;
    }
    const from = done.from === null ? 'none' : `v${done.from}`;
    this.update({ notice: `${done.alias}: ${from} → v${done.to}` });
    await this.refresh();
    return true;
  }

  /**
   * Open the notebook that trained the shown version.
   */
  async openNotebook(path: string): Promise<void> {
    await this.act(`open:${path}`, 'The notebook could not be opened', () =>
      this.links.openNotebook(path, null)
    );
  }

  /**
   * Open the notebook a run's stage executed (as the Runs view does).
   */
  async openExecuted(runId: string, stage: string): Promise<void> {
    await this.act(
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

  protected onSelect(): Partial<IModelsState> {
    return {
      version: null,
      versionDetail: null,
      versionError: null,
      notice: null
    };
  }

  protected itemKey(summary: IModelSummary): string {
    return summary.name;
  }

  protected async fetchPage(query: {
    offset: number;
    limit: number;
  }): Promise<IPage<IModelSummary>> {
    const page = await this._api.listModels({ q: this.state.query, ...query });
    return { items: page.models, total: page.total };
  }

  protected fetchDetail(name: string): Promise<IModelDetail> {
    return this._fetchModel(name, 'first');
  }

  /**
   * A model with `first` its first page of versions, `reload` as many as
   * are shown, `more` the next page (added to those shown).
   */
  private async _fetchModel(
    name: string,
    mode: LoadMode
  ): Promise<IModelDetail> {
    const { detail } = this.state;
    const loaded = detail?.name === name ? detail.versions : [];
    const more = mode === 'more';
    const next = await this._api.getModel(name, {
      offset: more ? loaded.length : 0,
      limit: pageLimit(mode, loaded.length)
    });
    return {
      ...next,
      versions: more
        ? unique([...loaded, ...next.versions], v => String(v.version))
        : next.versions
    };
  }

  private async _loadVersion(): Promise<void> {
    const { selected, version } = this.state;
    if (!selected || version === null) {
      this.bump('version');
      this.update({ versionDetail: null, versionLoading: false });
      return;
    }
    this.update({ versionLoading: true });
    const loaded = await this.latest('version', () =>
      this._api.getVersion(selected, version)
    );
    if (loaded) {
      this.update(
        loaded.ok
          ? {
              versionDetail: loaded.value,
              versionLoading: false,
              versionError: null
            }
          : { versionLoading: false, versionError: loaded.error }
      );
    }
  }

  private _api: IModelsApi;
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
