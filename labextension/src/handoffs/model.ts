import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { asApiError, IActionError, MlopsApiError } from '../request';
import {
  ICheckRequest,
  IFinding,
  IHandoff,
  IHandoffLinks,
  IHandoffsApi,
  IStageChange,
  IStageTaken
} from './types';

/**
 * Everything the Handoffs view shows. A new object on every change.
 */
export interface IHandoffsState {
  loading: boolean;
  loaded: boolean;
  error: MlopsApiError | null;
  /**
   * The latest handoff of each notebook, newest first.
   */
  handoffs: readonly IHandoff[];
  /**
   * The id of the handoff shown in detail.
   */
  selected: string | null;
  detail: IHandoff | null;
  detailLoading: boolean;
  detailError: MlopsApiError | null;
  /**
   * The Markdown report of `detail`.
   */
  report: string | null;
  reportError: MlopsApiError | null;
  /**
   * Notebooks being checked (a clean run takes a while).
   */
  checking: ReadonlySet<string>;
  /**
   * Actions in flight: `run`, `open:<cell>`, `executed`, `parameters`.
   */
  pending: ReadonlySet<string>;
  actionError: IActionError | null;
  /**
   * What the last action did, e.g. "Run r123 started".
   */
  notice: string | null;
}

/**
 * The finding of the clean run when it failed and its executed notebook
 * can be opened.
 */
export function failedCleanRun(
  handoff: IHandoff | null
): (IFinding & { runId: string; stage: string }) | null {
  const finding = handoff?.findings.find(
    f => f.check === 'clean_run' && f.status === 'fail'
  );
  const runId = finding?.details.run_id ?? handoff?.check_run;
  const stage = finding?.details.stage;
  if (!finding || typeof runId !== 'string' || typeof stage !== 'string') {
    return null;
  }
  return { ...finding, runId, stage };
}

/**
 * What a ready check left in mlops_lab.yaml, said after it (`change`: the
 * preview or the write of its stage; null: it could not be previewed).
 */
export function pipelineNotice(
  handoff: IHandoff,
  change: IStageChange | null
): string {
  const where = `stage ${handoff.stage} of pipeline ${handoff.pipeline}`;
  if (!change) {
    return `Ready as ${where}; mlops_lab.yaml was not changed`;
  }
  if (change.written) {
    return `Ready: ${where} written to mlops_lab.yaml`;
  }
  if (change.declared) {
    return change.changed
      ? `Ready as ${where} of mlops_lab.yaml (its inputs or outputs there ` +
          'differ from the check; the file was not changed)'
      : `Ready as ${where} of mlops_lab.yaml (already there, not changed)`;
  }
  return `Ready; mlops_lab.yaml was not changed (${where} not added)`;
}

/**
 * The stage a check was refused for, and the free name offered (a 409
 * `StageTakenError`), or null for any other error.
 */
export function stageTaken(error: MlopsApiError): IStageTaken | null {
  const { stage, taken_by, suggested_stage } = error.details;
  if (
    error.code !== 'StageTakenError' ||
    typeof suggested_stage !== 'string' ||
    typeof taken_by !== 'string'
  ) {
    return null;
  }
  return {
    stage: typeof stage === 'string' ? stage : '',
    takenBy: taken_by,
    suggested: suggested_stage
  };
}

/**
 * The handed-off notebooks: their latest check, its findings, contract and
 * report; checking a notebook (again), running a ready stage and opening
 * the cells findings are about.
 *
 * The model does the I/O; views read `state` and call its methods.
 */
export class HandoffsModel implements IDisposable {
  constructor(options: HandoffsModel.IOptions) {
    this._api = options.api;
    this._links = options.links;
  }

  /**
   * Open a handoff in a main-area tab, if this model's view can.
   */
  get openTab(): ((id: string) => void) | undefined {
    return this._links.openTab;
  }

  get state(): IHandoffsState {
    return this._state;
  }

  get stateChanged(): ISignal<this, IHandoffsState> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Reload the list and the handoff shown (its status may have become
   * stale).
   */
  async refresh(): Promise<void> {
    await Promise.all([this._loadList(), this._loadDetail()]);
  }

  /**
   * Show a handoff in detail, or go back to the list.
   */
  async select(id: string | null): Promise<void> {
    const known = this._state.handoffs.find(h => h.id === id) ?? null;
    const same = id !== null && id === this._state.detail?.id;
    this._update({
      selected: id,
      detail: same ? this._state.detail : known,
      detailError: null,
      report: same ? this._state.report : null,
      reportError: null,
      actionError: null,
      notice: null
    });
    await this._loadDetail();
  }

  /**
   * Check a notebook (blocks for the clean run), then show its handoff.
   * When its stage name already runs another notebook, the user is asked
   * whether to check it under the free name the server suggests.
   *
   * @param show show the notebook's handoff while it is checked and the
   *   new one once done, even if another handoff was shown
   * @returns the new handoff, or null if the check could not be done
   */
  async check(
    request: ICheckRequest,
    options: { show?: boolean } = {}
  ): Promise<IHandoff | null> {
    let result = await this._checkOnce(request, options);
    const taken = result instanceof MlopsApiError ? stageTaken(result) : null;
    if (taken && (await this._links.chooseStage(taken))) {
      result = await this._checkOnce(
        { ...request, stage: taken.suggested },
        options
      );
    }
    if (result instanceof MlopsApiError) {
      this._update({
        actionError: {
          title: `${request.notebook} could not be checked`,
          error: result
        }
      });
      return null;
    }
    return result;
  }

  /**
   * The fix the parameters check offers: add a parameters cell to the
   * shown handoff's notebook (saving unsaved changes first if the user
   * agrees), reload it if it is open, and say what was done; checking it
   * again is up to the user.
   */
  async addParameters(): Promise<void> {
    const notebook = this._state.detail?.notebook;
    if (!notebook) {
      return;
    }
    const done = await this._act(
      'parameters',
      `A parameters cell could not be added to ${notebook}`,
      async () => {
        if (!(await this._links.prepareEdit(notebook))) {
          return null;
        }
        const added = await this._api.addParameters(notebook);
        await this._links.reloadNotebook(notebook);
        return added;
      }
    );
    if (done) {
      this._update({
        notice: `${done.message} (Press "Check again" to see the findings.)`
      });
      await this.refresh(); // the notebook's code changed: its handoff is stale now
    }
  }

  /**
   * One check; its error is returned, not shown (null: already checking).
   */
  private async _checkOnce(
    request: ICheckRequest,
    options: { show?: boolean }
  ): Promise<IHandoff | MlopsApiError | null> {
    const { notebook } = request;
    if (this._state.checking.has(notebook)) {
      return null;
    }
    const showing = () =>
      options.show || this._state.detail?.notebook === notebook;
    if (options.show) {
      const known = this._state.handoffs.find(h => h.notebook === notebook);
      void this.select(known?.id ?? null);
    }
    this._setIn('checking', notebook, true);
    this._update({ actionError: null, notice: null });
    try {
      const done = await this._api.check({
        ...request,
        write_pipeline: false // asked below, with the change shown
      });
      ++this._listTicket; // a list loading meanwhile may not have it
      const handoffs = [
        done,
        ...this._state.handoffs.filter(h => h.notebook !== done.notebook)
      ];
      this._update({ handoffs, loaded: true, loading: false });
      this._setIn('checking', notebook, false);
      if (showing()) {
        await this.select(done.id);
      }
      if (done.status === 'ready') {
        this._update({ notice: await this._offerStage(done) });
      }
      return done;
    } catch (reason) {
      return asApiError(reason);
    } finally {
      this._setIn('checking', notebook, false);
    }
  }

  /**
   * After a ready check: a notebook that is already a stage of
   * mlops_lab.yaml was checked as that stage, nothing to ask; otherwise
   * show the change its stage makes to the file and write it only if the
   * user confirms. Returns what was done, to say.
   */
  private async _offerStage(done: IHandoff): Promise<string> {
    let change: IStageChange | null = null;
    try {
      change = await this._api.stageChange(done.id);
      if (!change.declared && change.changed) {
        if (await this._links.confirmStageChange(change)) {
          change = await this._api.stageChange(done.id, {
            confirm: true,
            config_hash: change.config_hash
          });
        }
      }
    } catch (reason) {
      this._update({
        actionError: {
          title: 'mlops_lab.yaml was not changed',
          error: asApiError(reason)
        }
      });
    }
    return pipelineNotice(done, change);
  }

  /**
   * Check the shown handoff's notebook again, as the same stage.
   */
  async checkAgain(): Promise<IHandoff | null> {
    const { detail } = this._state;
    if (!detail) {
      return null;
    }
    return this.check({
      notebook: detail.notebook,
      pipeline: detail.pipeline,
      stage: detail.stage,
      timeout: detail.contract.timeout,
      cell_timeout: detail.contract.cell_timeout ?? undefined,
      kernel: detail.contract.kernel ?? undefined,
      rel_tol: detail.contract.rel_tol
    });
  }

  /**
   * Run the shown handoff's stage (it is ready), then show the run.
   */
  async runStage(): Promise<void> {
    const { detail } = this._state;
    if (!detail) {
      return;
    }
    const { pipeline, stage } = detail;
    const started = await this._act('run', 'The stage was not started', () =>
      this._api.runStage(pipeline, stage)
    );
    if (started) {
      this._update({
        notice: `Run ${started.run_id} of ${pipeline} (stage ${stage}) started`
      });
      this._links.showRun(started.run_id, pipeline);
    }
  }

  /**
   * Open the shown handoff's notebook at a cell.
   */
  async openCell(cell: number | null): Promise<void> {
    const notebook = this._state.detail?.notebook;
    if (!notebook) {
      return;
    }
    await this._act(
      `open:${cell}`,
      `${notebook} could not be opened`,
      async () => {
        // Findings count cells from 1; the notebook's cell indices start at 0.
        await this._links.openNotebook(
          notebook,
          cell === null ? null : cell - 1,
          false
        );
        return true;
      }
    );
  }

  /**
   * Open the notebook the failed clean run executed, at its failing cell.
   */
  async openFailingCell(): Promise<void> {
    const failed = failedCleanRun(this._state.detail);
    if (!failed) {
      return;
    }
    await this._act(
      'executed',
      'The executed notebook could not be opened',
      async () => {
        const opened = await this._api.openStage(failed.runId, failed.stage);
        // The copy holds papermill's banner and parameters cells: scroll to the
        // failing cell's index in the copy, not to the finding's (saved) cell.
        const cell =
          opened.cell ??
          (typeof failed.details.executed_cell === 'number'
            ? failed.details.executed_cell
            : null);
        await this._links.openNotebook(opened.path, cell, true);
        return true;
      }
    );
  }

  dismiss(): void {
    this._update({ actionError: null, notice: null });
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private async _loadList(): Promise<void> {
    const ticket = ++this._listTicket;
    this._update({ loading: true });
    try {
      const { handoffs } = await this._api.listHandoffs();
      if (ticket === this._listTicket) {
        this._update({ handoffs, loaded: true, loading: false, error: null });
      }
    } catch (reason) {
      if (ticket === this._listTicket) {
        this._update({ loading: false, error: asApiError(reason) });
      }
    }
  }

  /**
   * Load the selected handoff and its report.
   */
  private async _loadDetail(): Promise<void> {
    const ticket = ++this._detailTicket;
    const id = this._state.selected;
    if (id === null) {
      this._update({ detail: null, detailLoading: false, report: null });
      return;
    }
    this._update({ detailLoading: true });
    const [detail, report] = await Promise.allSettled([
      this._api.getHandoff(id),
      this._api.getReport(id)
    ]);
    if (ticket !== this._detailTicket) {
      return;
    }
    this._update({
      detailLoading: false,
      ...(detail.status === 'fulfilled'
        ? { detail: detail.value, detailError: null }
        : { detailError: asApiError(detail.reason) }),
      ...(report.status === 'fulfilled'
        ? { report: report.value, reportError: null }
        : { reportError: asApiError(report.reason) })
    });
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
    this._setIn('pending', key, true);
    this._update({ actionError: null, notice: null });
    try {
      return await action();
    } catch (reason) {
      this._update({ actionError: { title, error: asApiError(reason) } });
      return null;
    } finally {
      this._setIn('pending', key, false);
    }
  }

  private _setIn(set: 'pending' | 'checking', key: string, on: boolean): void {
    const next = new Set(this._state[set]);
    if (on) {
      next.add(key);
    } else {
      next.delete(key);
    }
    this._update({ [set]: next });
  }

  private _update(patch: Partial<IHandoffsState>): void {
    if (this._isDisposed) {
      return;
    }
    this._state = { ...this._state, ...patch };
    this._stateChanged.emit(this._state);
  }

  private _api: IHandoffsApi;
  private _detailTicket = 0;
  private _isDisposed = false;
  private _links: IHandoffLinks;
  private _listTicket = 0;
  private _state: IHandoffsState = {
    loading: false,
    loaded: false,
    error: null,
    handoffs: [],
    selected: null,
    detail: null,
    detailLoading: false,
    detailError: null,
    report: null,
    reportError: null,
    checking: new Set(),
    pending: new Set(),
    actionError: null,
    notice: null
  };
  private _stateChanged = new Signal<this, IHandoffsState>(this);
}

export namespace HandoffsModel {
  export interface IOptions {
    api: IHandoffsApi;
    links: IHandoffLinks;
  }
}
