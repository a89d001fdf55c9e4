import { asApiError, MlopsApiError } from '../request';
import { IPage, toggled, ViewModel } from '../viewModel';
import { failedCleanRun, pipelineNotice, stageTaken } from './outcomes';
import {
  ICheckRequest,
  IHandoff,
  IHandoffLinks,
  IHandoffsApi,
  IStageChange
} from './types';

/**
 * The Handoffs view's own state; the list (`items`: the latest handoff of
 * each notebook, newest first), the selected handoff (`selected`: its id)
 * and `detail` are in `IViewState`.
 */
export interface IHandoffsExtra {
  /**
   * The Markdown report of `detail`.
   */
  report: string | null;
  reportError: MlopsApiError | null;
  /**
   * Notebooks being checked (a clean run takes a while).
   */
  checking: ReadonlySet<string>;
}

/**
 * Everything the Handoffs view shows. A new object on every change.
 * Actions in flight (`pending`): `run`, `open:<cell>`, `executed`,
 * `parameters`.
 */
export type IHandoffsState = ViewModel.State<
  IHandoff,
  IHandoff,
  string,
  IHandoffsExtra
>;

/**
 * The handed-off notebooks: their latest check, its findings, contract and
 * report; checking a notebook (again), running a ready stage and opening
 * the cells findings are about.
 *
 * The model does the I/O; views read `state` and call its methods.
 */
export class HandoffsModel extends ViewModel<
  IHandoff,
  IHandoff,
  string,
  IHandoffsExtra
> {
  constructor(options: HandoffsModel.IOptions) {
    super({
      report: null,
      reportError: null,
      checking: new Set()
    });
    this._api = options.api;
    this._links = options.links;
  }

  /**
   * Open a handoff in a main-area tab, if this model's view can.
   */
  get openTab(): ((id: string) => void) | undefined {
    return this._links.openTab;
  }

  /**
   * Show a handoff in detail (with its report), or go back to the list.
   */
  protected onSelect(
    id: string | null,
    same: boolean
  ): Partial<IHandoffsState> {
    return {
      report: same ? this.state.report : null,
      reportError: null,
      actionError: null,
      notice: null
    };
  }

  protected known(id: string): IHandoff | null {
    return this.state.items.find(h => h.id === id) ?? null;
  }

  protected itemKey(handoff: IHandoff): string {
    return handoff.id;
  }

  protected async fetchPage(): Promise<IPage<IHandoff>> {
    const { handoffs } = await this._api.listHandoffs();
    return { items: handoffs, total: handoffs.length };
  }

  protected fetchDetail(id: string): Promise<IHandoff> {
    return this._api.getHandoff(id);
  }

  /**
   * Load the selected handoff and its report.
   */
  protected async loadDetail(): Promise<IHandoff | null> {
    const id = this.state.selected;
    const report =
      id === null
        ? Promise.resolve(null)
        : this.latest('report', () => this._api.getReport(id));
    const [detail, loaded] = await Promise.all([super.loadDetail(), report]);
    if (id === null) {
      this.update({ report: null });
    } else if (loaded) {
      this.update(
        loaded.ok
          ? { report: loaded.value, reportError: null }
          : { reportError: loaded.error }
      );
    }
    return detail;
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
      this.update({
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
    const notebook = this.state.detail?.notebook;
    if (!notebook) {
      return;
    }
    const done = await this.act(
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
      this.update({
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
    if (this.state.checking.has(notebook)) {
      return null;
    }
    const showing = () =>
      options.show || this.state.detail?.notebook === notebook;
    if (options.show) {
      const known = this.state.items.find(h => h.notebook === notebook);
      void this.select(known?.id ?? null);
    }
    this._setChecking(notebook, true);
    this.update({ actionError: null, notice: null });
    try {
      const done = await this._api.check({
        ...request,
        write_pipeline: false // asked below, with the change shown
      });
      this.bump('list'); // a list loading meanwhile may not have it
      const items = [
        done,
        ...this.state.items.filter(h => h.notebook !== done.notebook)
      ];
      this.update({
        items,
        total: items.length,
        loaded: true,
        loading: false
      });
      this._setChecking(notebook, false);
      if (showing()) {
        await this.select(done.id);
      }
      if (done.status === 'ready') {
        this.update({ notice: await this._offerStage(done) });
      }
      return done;
    } catch (reason) {
      return asApiError(reason);
    } finally {
      this._setChecking(notebook, false);
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
      this.update({
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
    const { detail } = this.state;
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
    const { detail } = this.state;
    if (!detail) {
      return;
    }
    const { pipeline, stage } = detail;
    const started = await this.act('run', 'The stage was not started', () =>
      this._api.runStage(pipeline, stage)
    );
    if (started) {
      this.update({
        notice: `Run ${started.run_id} of ${pipeline} (stage ${stage}) started`
      });
      this._links.showRun(started.run_id, pipeline);
    }
  }

  /**
   * Open the shown handoff's notebook at a cell.
   */
  async openCell(cell: number | null): Promise<void> {
    const notebook = this.state.detail?.notebook;
    if (!notebook) {
      return;
    }
    await this.act(
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
    const failed = failedCleanRun(this.state.detail);
    if (!failed) {
      return;
    }
    await this.act(
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

  private _setChecking(notebook: string, on: boolean): void {
    this.update({ checking: toggled(this.state.checking, notebook, on) });
  }

  private _api: IHandoffsApi;
  private _links: IHandoffLinks;
}

export namespace HandoffsModel {
  export interface IOptions {
    api: IHandoffsApi;
    links: IHandoffLinks;
  }
}
