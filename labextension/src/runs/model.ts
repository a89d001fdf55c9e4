import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { asApiError, MlopsApiError } from '../request';
import { MAX_COMPARED_RUNS } from './compareTypes';
import {
  IPipeline,
  IRun,
  IRunComparison,
  IRunsApi,
  IStartRunRequest,
  RunStatus
} from '../tokens';

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
 * The server-side filter of the run list.
 */
export interface IRunsFilter {
  pipeline: string | null;
  status: RunStatus | null;
  /**
   * Show the clean runs of handoff checks too (hidden by default).
   */
  handoffs: boolean;
}

/**
 * The comparison of the two selected runs (`a` started first).
 */
export type ComparisonState =
  | { phase: 'none' }
  | { phase: 'loading'; a: string; b: string }
  | { phase: 'ok'; a: string; b: string; comparison: IRunComparison }
  | { phase: 'error'; a: string; b: string; error: MlopsApiError };

/**
 * Everything the runs view shows. A new object on every change.
 */
export interface IRunsState {
  /**
   * A load the user asked for (show, refresh, filter, more) is in flight;
   * live updates load silently.
   */
  loading: boolean;
  /**
   * Why the list could not be loaded; the last good list is kept.
   */
  error: MlopsApiError | null;
  /**
   * Whether the list has been loaded at least once.
   */
  loaded: boolean;
  /**
   * The loaded pages of runs, newest first.
   */
  runs: readonly IRun[];
  /**
   * How many runs match the filter on the server.
   */
  total: number;
  filter: IRunsFilter;
  /**
   * The workspace's pipelines, `null` until loaded.
   */
  pipelines: readonly IPipeline[] | null;
  pipelinesError: MlopsApiError | null;
  /**
   * Runs shown with their stages.
   */
  expanded: ReadonlySet<string>;
  /**
   * Runs ticked for comparison, in the order they were ticked (two are
   * compared inline, more in a main-area tab).
   */
  selected: readonly string[];
  /**
   * `GET runs/{id}` of expanded runs (for their metrics).
   */
  details: ReadonlyMap<string, IRun>;
  comparison: ComparisonState;
  /**
   * Why the last action (cancel, open) failed, until dismissed.
   */
  actionError: MlopsApiError | null;
  /**
   * Actions in flight, as `cancel:<run>` or `open:<run>/<stage>`.
   */
  pending: ReadonlySet<string>;
  /**
   * Whether the list reloads by itself (a listed run is running).
   */
  live: boolean;
  /**
   * The run to scroll to (the one started or revealed last).
   */
  focus: string | null;
}

/**
 * Opens a notebook from the server's contents, scrolled to a cell.
 */
export type NotebookOpener = (
  path: string,
  cell: number | null
) => Promise<void>;

/**
 * The runs of the workspace: a paginated, filtered list that reloads itself
 * while runs are running, plus the actions on runs.
 *
 * The model does the I/O; views read `state` and call its methods.
 */
export class RunsModel implements IDisposable {
  constructor(options: RunsModel.IOptions) {
    this._api = options.api;
    this._openNotebook = options.openNotebook;
    this._pollInterval = options.pollInterval ?? POLL_INTERVAL;
  }

  get state(): IRunsState {
    return this._state;
  }

  /**
   * Emitted with the new state whenever it changes.
   */
  get stateChanged(): ISignal<this, IRunsState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
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
    await Promise.all([this._loadPipelines(), this._loadRuns('reload')]);
  }

  /**
   * Load the next page of runs.
   */
  async loadMore(): Promise<void> {
    await this._loadRuns('more');
  }

  /**
   * Change the filter and load its first page.
   */
  async setFilter(filter: Partial<IRunsFilter>): Promise<void> {
    this._update({
      filter: { ...this._state.filter, ...filter },
      runs: [],
      total: 0,
      loaded: false
    });
    await this._loadRuns('reload');
  }

  /**
   * Show or hide a run's stages.
   */
  toggleExpanded(runId: string): void {
    const expanded = new Set(this._state.expanded);
    if (!expanded.delete(runId)) {
      expanded.add(runId);
    }
    this._update({ expanded });
    void this._loadDetails();
  }

  /**
   * Tick or untick a run for comparison; past `MAX_COMPARED_RUNS` ticking
   * one more drops the first.
   */
  toggleSelected(runId: string): void {
    let selected = this._state.selected.filter(id => id !== runId);
    if (selected.length === this._state.selected.length) {
      selected = [...selected, runId].slice(-MAX_COMPARED_RUNS);
    }
    this._update({ selected });
    void this._loadComparison();
  }

  clearSelection(): void {
    this._update({ selected: [] });
    void this._loadComparison();
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
    const { filter } = this._state;
    const next: IRunsFilter = {
      pipeline:
        filter.pipeline && filter.pipeline === pipeline
          ? filter.pipeline
          : null,
      status: filter.status === 'running' ? filter.status : null,
      handoffs: filter.handoffs
    };
    this._awaiting = { runId, until: Date.now() + AWAIT_TIMEOUT };
    this._update({
      filter: next,
      expanded: new Set(this._state.expanded).add(runId),
      focus: runId
    });
    void this._loadRuns('reload');
    if (!next.handoffs) {
      void this._showHandoffsFor(runId);
    }
  }

  /**
   * Ask the server to cancel a running run.
   */
  async cancelRun(runId: string): Promise<void> {
    await this._act(`cancel:${runId}`, () => this._api.cancelRun(runId));
    await this._loadRuns('poll');
  }

  /**
   * Open a stage's executed notebook, at its failing cell if `atCell`.
   */
  async openStage(runId: string, stage: string, atCell = false): Promise<void> {
    await this._act(`open:${runId}/${stage}`, async () => {
      const opened = await this._api.openStage(runId, stage);
      await this._openNotebook(
        opened.path,
        atCell ? (opened.cell ?? null) : null
      );
    });
  }

  dismissActionError(): void {
    this._update({ actionError: null });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    window.clearTimeout(this._timer);
    Signal.clearData(this);
  }

  /**
   * Turn on handoff runs when the run to reveal is one.
   */
  private async _showHandoffsFor(runId: string): Promise<void> {
    try {
      const run = await this._api.getRun(runId);
      if (run.kind === 'handoff' && !this._state.filter.handoffs) {
        await this.setFilter({ handoffs: true });
      }
    } catch {
      // The list shows the run, or says why it cannot.
    }
  }

  private async _loadPipelines(): Promise<void> {
    try {
      const { pipelines } = await this._api.listPipelines();
      this._update({ pipelines, pipelinesError: null });
    } catch (reason) {
      this._update({ pipelines: null, pipelinesError: asApiError(reason) });
    }
  }

  /**
   * Load runs: `reload` and `poll` fetch everything loaded so far again
   * (`poll` without showing it is loading), `more` the next page.
   */
  private async _loadRuns(mode: 'reload' | 'poll' | 'more'): Promise<void> {
    const ticket = ++this._ticket;
    window.clearTimeout(this._timer);
    const { filter, runs } = this._state;
    const more = mode === 'more';
    const query = {
      ...filter,
      offset: more ? runs.length : 0,
      limit: more ? PAGE_SIZE : Math.min(Math.max(runs.length, PAGE_SIZE), 1000)
    };
    if (mode !== 'poll') {
      this._update({ loading: true });
    }
    try {
      const page = await this._api.listRuns(query);
      if (ticket !== this._ticket) {
        return;
      }
      const next = more
        ? withoutDuplicates([...runs, ...page.runs])
        : page.runs;
      if (this._awaiting && next.some(r => r.id === this._awaiting?.runId)) {
        this._awaiting = null;
      }
      this._update({
        runs: next,
        total: page.total,
        loaded: true,
        loading: false,
        error: null
      });
      await Promise.all([this._loadDetails(), this._reloadLiveComparison()]);
    } catch (reason) {
      if (ticket === this._ticket) {
        this._update({ loading: false, error: asApiError(reason) });
      }
    } finally {
      if (ticket === this._ticket) {
        this._schedule();
      }
    }
  }

  /**
   * Fetch the details of expanded runs that are missing or out of date.
   */
  private async _loadDetails(): Promise<void> {
    const { expanded, details } = this._state;
    const stale = this._state.runs.filter(run => {
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
      const next = new Map(this._state.details);
      for (const run of fetched) {
        if (run) {
          next.set(run.id, run);
        }
      }
      this._update({ details: next });
    }
  }

  /**
   * Compare the two selected runs again while one of them is running.
   */
  private async _reloadLiveComparison(): Promise<void> {
    const running = this._state.runs.some(
      run => run.status === 'running' && this._state.selected.includes(run.id)
    );
    if (running) {
      await this._loadComparison({ quiet: true });
    }
  }

  private async _loadComparison(
    options: { quiet?: boolean } = {}
  ): Promise<void> {
    const ticket = ++this._comparisonTicket;
    const { selected, runs } = this._state;
    if (selected.length !== 2) {
      this._update({ comparison: { phase: 'none' } });
      return;
    }
    const started = (id: string) =>
      runs.find(run => run.id === id)?.started_at ?? '';
    const [a, b] = [...selected].sort((x, y) =>
      started(x).localeCompare(started(y))
    );
    if (!options.quiet || this._state.comparison.phase !== 'ok') {
      this._update({ comparison: { phase: 'loading', a, b } });
    }
    let comparison: ComparisonState;
    try {
      comparison = {
        phase: 'ok',
        a,
        b,
        comparison: await this._api.compareRuns(a, b)
      };
    } catch (reason) {
      comparison = { phase: 'error', a, b, error: asApiError(reason) };
    }
    if (ticket === this._comparisonTicket) {
      this._update({ comparison });
    }
  }

  /**
   * Run an action on a run, marking it pending and keeping its error.
   */
  private async _act(
    key: string,
    action: () => Promise<unknown>
  ): Promise<void> {
    this._update({
      pending: new Set(this._state.pending).add(key),
      actionError: null
    });
    try {
      await action();
    } catch (reason) {
      this._update({ actionError: asApiError(reason) });
    } finally {
      const pending = new Set(this._state.pending);
      pending.delete(key);
      this._update({ pending });
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
      !this._isDisposed &&
      (this._awaiting !== null ||
        this._state.runs.some(run => run.status === 'running'));
    if (live !== this._state.live) {
      this._update({ live });
    }
    if (live) {
      this._timer = window.setTimeout(
        () => void this._loadRuns('poll'),
        this._pollInterval
      );
    }
  }

  private _update(patch: Partial<IRunsState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._stateChanged.emit(this._state);
  }

  private _active = false;
  private _api: IRunsApi;
  private _awaiting: { runId: string; until: number } | null = null;
  private _comparisonTicket = 0;
  private _isDisposed = false;
  private _openNotebook: NotebookOpener;
  private _pollInterval: number;
  private _state: IRunsState = {
    loading: false,
    error: null,
    loaded: false,
    runs: [],
    total: 0,
    filter: { pipeline: null, status: null, handoffs: false },
    pipelines: null,
    pipelinesError: null,
    expanded: new Set(),
    selected: [],
    details: new Map(),
    comparison: { phase: 'none' },
    actionError: null,
    pending: new Set(),
    live: false,
    focus: null
  };
  private _stateChanged = new Signal<this, IRunsState>(this);
  private _ticket = 0;
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

function withoutDuplicates(runs: IRun[]): IRun[] {
  const seen = new Set<string>();
  return runs.filter(run => !seen.has(run.id) && seen.add(run.id));
}
