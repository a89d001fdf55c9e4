import { MlopsApiError } from '../request';
import { IPage, LoadMode, ViewModel } from '../viewModel';
import {
  byStart,
  IRunsExtra,
  IRunsFilter,
  IRunsState,
  NotebookOpener
} from './state';
import { MAX_COMPARED_RUNS } from './compareTypes';
import { IRun, IRunComparison, IRunsApi, IStartRunRequest } from './types';

export { comparisonOf } from './state';
export type { ComparisonState, IRunsFilter, IRunsState } from './state';

/**
 * Runs asked for per page.
 */
export const PAGE_SIZE = 25;

/**
 * How often the list is reloaded while a listed run is running, in ms.
 */
export const POLL_INTERVAL = 1500;

/**
 * How long a run just started is waited for in the list, in ms.
 */
const AWAIT_TIMEOUT = 15000;

/**
 * The runs of the workspace: a paginated, filtered list that reloads itself
 * while runs are running, plus the actions on runs.
 *
 * The model does the I/O; views read `state` and call its methods.
 */
export class RunsModel extends ViewModel<
  IRun,
  IRunComparison,
  readonly string[],
  IRunsExtra
> {
  constructor(options: RunsModel.IOptions) {
    super(
      {
        filter: { pipeline: null, status: null, handoffs: false },
        pipelines: null,
        pipelinesError: null,
        expanded: new Set(),
        details: new Map(),
        actionError: null,
        live: false,
        focus: null
      },
      { pageSize: PAGE_SIZE }
    );
    this._api = options.api;
    this._openNotebook = options.openNotebook;
    this._pollInterval = options.pollInterval ?? POLL_INTERVAL;
  }

  /**
   * Whether a view shows the runs. Becoming active reloads the list; live
   * updates only happen while active.
   */
  setActive(active: boolean): void {
    this._active = active;
    if (active) {
      void this.refresh();
    } else {
      this._schedule();
    }
  }

  /**
   * Reload the pipelines and the loaded pages of runs.
   */
  async refresh(): Promise<void> {
    await Promise.all([this._loadPipelines(), this.loadList('reload')]);
  }

  /**
   * Change the filter and load its first page.
   */
  async setFilter(filter: Partial<IRunsFilter>): Promise<void> {
    this.update({
      filter: { ...this.state.filter, ...filter },
      items: [],
      total: 0,
      loaded: false
    });
    await this.loadList('reload');
  }

  /**
   * Show or hide a run's stages.
   */
  toggleExpanded(runId: string): void {
    const expanded = new Set(this.state.expanded);
    if (!expanded.delete(runId)) {
      expanded.add(runId);
    }
    this.update({ expanded });
    void this._loadDetails();
  }

  /**
   * Tick or untick a run for comparison; ticking a third drops the first.
   */
  toggleSelected(runId: string): void {
    const ticked = this.state.selected ?? [];
    let selected = ticked.filter(id => id !== runId);
    if (selected.length === ticked.length) {
      selected = [...selected, runId].slice(-MAX_COMPARED_RUNS);
    }
    void this.select(selected.length ? selected : null);
  }

  clearSelection(): void {
    void this.deselect();
  }

  /**
   * Start a run; it is then shown expanded and followed live.
   *
   * @returns the new run's id
   * @throws {MlopsApiError} when the server refuses the run
   */
  async startRun(request: IStartRunRequest): Promise<string> {
    const { run_id } = await this._api.startRun(request);
    this.revealRun(run_id, request.pipeline ?? null);
    return run_id;
  }

  /**
   * Show a run expanded at the top of the list, clearing a filter that
   * would hide it, and follow it until it ends.
   */
  revealRun(runId: string, pipeline: string | null = null): void {
    const { filter } = this.state;
    const next: IRunsFilter = {
      pipeline:
        filter.pipeline && filter.pipeline === pipeline
          ? filter.pipeline
          : null,
      status: filter.status === 'running' ? filter.status : null,
      handoffs: filter.handoffs
    };
    this._awaiting = { runId, until: Date.now() + AWAIT_TIMEOUT };
    this.update({
      filter: next,
      expanded: new Set(this.state.expanded).add(runId),
      focus: runId
    });
    void this.loadList('reload');
    if (!next.handoffs) {
      void this._showHandoffsFor(runId);
    }
  }

  /**
   * Ask the server to cancel a running run.
   */
  async cancelRun(runId: string): Promise<void> {
    await this.act(`cancel:${runId}`, '', () => this._api.cancelRun(runId));
    await this.loadList('poll');
  }

  /**
   * Open a stage's executed notebook, at its failing cell if `atCell`.
   */
  async openStage(runId: string, stage: string, atCell = false): Promise<void> {
    await this.act(`open:${runId}/${stage}`, '', async () => {
      const opened = await this._api.openStage(runId, stage);
      await this._openNotebook(
        opened.path,
        atCell ? (opened.cell ?? null) : null
      );
    });
  }

  dismissActionError(): void {
    this.dismiss();
  }

  protected failed(_: string, actionError: MlopsApiError): Partial<IRunsState> {
    return { actionError };
  }

  protected sameKey(a: readonly string[], b: readonly string[]): boolean {
    return a.length === b.length && a.every(id => b.includes(id));
  }

  protected itemKey(run: IRun): string {
    return run.id;
  }

  protected async fetchPage(query: {
    offset: number;
    limit: number;
  }): Promise<IPage<IRun>> {
    const page = await this._api.listRuns({ ...this.state.filter, ...query });
    return { items: page.runs, total: page.total };
  }

  protected fetchDetail(ticked: readonly string[]): Promise<IRunComparison> {
    const [a, b] = byStart(ticked, this.state.items);
    return this._api.compareRuns(a, b);
  }

  /**
   * Compare the ticked runs when there are two.
   */
  protected async loadDetail(): Promise<IRunComparison | null> {
    if (this.state.selected?.length === 2) {
      return super.loadDetail();
    }
    this.bump('detail');
    this.update({ detail: null, detailLoading: false, detailError: null });
    return null;
  }

  /**
   * Load runs (`poll`: a live update), then the details of expanded runs
   * and the comparison of a running run; reload in a moment while a run
   * is running.
   */
  protected async loadList(mode: LoadMode): Promise<boolean> {
    window.clearTimeout(this._timer);
    const current = await super.loadList(mode);
    if (!current) {
      return false;
    }
    const { items, error } = this.state;
    if (this._awaiting && items.some(r => r.id === this._awaiting?.runId)) {
      this._awaiting = null;
    }
    if (!error) {
      await Promise.all([this._loadDetails(), this._reloadLiveComparison()]);
    }
    this._schedule();
    return true;
  }

  protected onDispose(): void {
    window.clearTimeout(this._timer);
  }

  /**
   * Turn on handoff runs when the run to reveal is one.
   */
  private async _showHandoffsFor(runId: string): Promise<void> {
    try {
      const run = await this._api.getRun(runId);
      if (run.kind === 'handoff' && !this.state.filter.handoffs) {
        await this.setFilter({ handoffs: true });
      }
    } catch {
      // The list shows the run, or says why it cannot.
    }
  }

  private async _loadPipelines(): Promise<void> {
    const loaded = await this.latest('pipelines', () =>
      this._api.listPipelines()
    );
    if (loaded) {
      this.update(
        loaded.ok
          ? { pipelines: loaded.value.pipelines, pipelinesError: null }
          : { pipelines: null, pipelinesError: loaded.error }
      );
    }
  }

  /**
   * Fetch the details of expanded runs that are missing or out of date.
   */
  private async _loadDetails(): Promise<void> {
    const { expanded, details } = this.state;
    const stale = this.state.items.filter(run => {
      const known = details.get(run.id);
      return (
        expanded.has(run.id) &&
        (!known || known.status !== run.status || run.status === 'running')
      );
    });
    const fetched = await Promise.all(
      stale.map(run =>
        this._api.getRun(run.id).catch(reason => {
          console.warn(`mlops-lab: could not load run ${run.id}`, reason);
          return null;
        })
      )
    );
    if (fetched.some(run => run !== null)) {
      const next = new Map(this.state.details);
      for (const run of fetched) {
        if (run) {
          next.set(run.id, run);
        }
      }
      this.update({ details: next });
    }
  }

  /**
   * Compare the two ticked runs again while one of them is running.
   */
  private async _reloadLiveComparison(): Promise<void> {
    const ticked = this.state.selected ?? [];
    const running = this.state.items.some(
      run => run.status === 'running' && ticked.includes(run.id)
    );
    if (running) {
      await this.loadDetail();
    }
  }

  /**
   * Reload in a moment if a listed run is running (or a run just started
   * has not shown up yet) and a view is watching.
   */
  private _schedule(): void {
    window.clearTimeout(this._timer);
    if (this._awaiting && this._awaiting.until < Date.now()) {
      this._awaiting = null;
    }
    const live =
      this._active &&
      !this.isDisposed &&
      (this._awaiting !== null ||
        this.state.items.some(run => run.status === 'running'));
    if (live !== this.state.live) {
      this.update({ live });
    }
    if (live) {
      this._timer = window.setTimeout(
        () => void this.loadList('poll'),
        this._pollInterval
      );
    }
  }

  private _active = false;
  private _api: IRunsApi;
  private _awaiting: { runId: string; until: number } | null = null;
  private _openNotebook: NotebookOpener;
  private _pollInterval: number;
  private _timer = 0;
}

export namespace RunsModel {
  export interface IOptions {
    /**
     * The REST API (replaceable in tests).
     */
    api: IRunsApi;
    /**
     * Opens an executed notebook the server copied into the workspace.
     */
    openNotebook: NotebookOpener;
    /**
     * Live-update interval in ms; defaults to `POLL_INTERVAL`.
     */
    pollInterval?: number;
  }
}
