import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { checkIcon, ToolbarButton } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

import { HandoffsModel, IHandoffsState } from './model';

/**
 * Open a notebook the scientist works on (path relative to the server
 * root), or reveal it if it is open, and make `cell` the active cell,
 * scrolled into view. Unlike the executed notebooks of runs, it opens
 * with its kernel.
 */
export async function openNotebookCell(
  docManager: IDocumentManager,
  path: string,
  cell: number | null
): Promise<void> {
  const widget = docManager.openOrReveal(path);
  if (!widget) {
    throw new Error(`JupyterLab could not open ${path}.`);
  }
  await widget.context.ready;
  await widget.revealed;
  if (cell === null || !(widget instanceof NotebookPanel)) {
    return;
  }
  const notebook = widget.content;
  if (cell < 0 || cell >= notebook.widgets.length) {
    // `cell` is the index (from 0); users count cells from 1 ("Cell N/M").
    throw new Error(`${path} has no cell ${cell + 1} any more.`);
  }
  notebook.deselectAll();
  notebook.activeCellIndex = cell;
  const active = notebook.activeCell;
  if (active) {
    await notebook.scrollToCell(active, 'center');
  }
  notebook.mode = 'command';
  widget.content.activate();
}

/**
 * Adds "Check handoff" to every notebook's toolbar; `check` gets the
 * notebook whose button was pressed. The button is disabled while that
 * notebook is being checked.
 */
export class CheckHandoffButton implements DocumentRegistry.IWidgetExtension<
  NotebookPanel,
  INotebookModel
> {
  constructor(model: HandoffsModel, check: (panel: NotebookPanel) => void) {
    this._model = model;
    this._check = check;
  }

  createNew(panel: NotebookPanel): IDisposable {
    const button = new ToolbarButton({
      className: 'jp-mlops-check-handoff',
      icon: checkIcon,
      label: 'Check handoff',
      tooltip:
        'MLOps: Check that this notebook is ready to become a pipeline ' +
        'stage (runs it in a fresh kernel)',
      onClick: () => this._check(panel)
    });
    button.node.dataset.testid = 'mlops-check-handoff';
    const follow = (_: HandoffsModel, state: IHandoffsState) => {
      const busy = state.checking.has(panel.context.localPath);
      button.enabled = !busy;
      button.node.dataset.checking = busy ? 'yes' : 'no';
    };
    this._model.stateChanged.connect(follow);
    if (!panel.toolbar.insertAfter('cellType', 'mlops-check-handoff', button)) {
      panel.toolbar.addItem('mlops-check-handoff', button);
    }
    return new DisposableDelegate(() => {
      this._model.stateChanged.disconnect(follow);
      button.dispose();
    });
  }

  private _check: (panel: NotebookPanel) => void;
  private _model: HandoffsModel;
}
