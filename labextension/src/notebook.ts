import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { IDisposable } from '@lumino/disposable';

import { EXECUTED_FACTORY } from './executed';
import { mlopsIcon } from './icons';

/**
 * Open an executed copy of a stage run (path relative to the server root)
 * and, if `cell` (from 0, in the copy) is given, make that cell active and
 * scroll it into view.
 *
 * It opens with the executed-notebook factory (executed.ts): read-only,
 * no kernel, titled `name.ipynb (run r..., executed)` with a banner.
 */
export async function openNotebookAt(
  docManager: IDocumentManager,
  path: string,
  cell: number | null
): Promise<void> {
  const widget = docManager.openOrReveal(path, EXECUTED_FACTORY);
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
    return;
  }
  notebook.activeCellIndex = cell;
  const active = notebook.activeCell;
  if (active) {
    await notebook.scrollToCell(active, 'center');
    keepHeaderInView(widget);
  }
  notebook.mode = 'command';
}

/**
 * Scrolling a cell into view may also scroll the panel around the
 * notebook (its toolbar and banner then leave the view): put it back.
 */
export function keepHeaderInView(widget: { node: HTMLElement }): void {
  widget.node.scrollTop = 0;
  for (const child of Array.from(widget.node.children)) {
    if (
      child instanceof HTMLElement &&
      !child.classList.contains('jp-Notebook')
    ) {
      child.scrollTop = 0;
    }
  }
}

/**
 * Save a notebook and return its path relative to the server root (no
 * drive prefix), ready to be run.
 */
export async function savedNotebookPath(panel: NotebookPanel): Promise<string> {
  await panel.context.ready;
  if (panel.context.model.dirty) {
    await panel.context.save();
  }
  return panel.context.localPath;
}

/**
 * Adds the "Run notebook as pipeline stage" button to every notebook's
 * toolbar; `run` gets the notebook whose button was pressed.
 */
export class RunNotebookButton implements DocumentRegistry.IWidgetExtension<
  NotebookPanel,
  INotebookModel
> {
  constructor(run: (panel: NotebookPanel) => void) {
    this._run = run;
  }

  createNew(panel: NotebookPanel): IDisposable {
    const button = new ToolbarButton({
      className: 'jp-mlops-run-notebook',
      icon: mlopsIcon,
      tooltip: 'MLOps: Run notebook as pipeline stage',
      onClick: () => this._run(panel)
    });
    button.node.dataset.testid = 'mlops-run-notebook';
    if (!panel.toolbar.insertAfter('cellType', 'mlops-run-notebook', button)) {
      panel.toolbar.addItem('mlops-run-notebook', button);
    }
    return button;
  }

  private _run: (panel: NotebookPanel) => void;
}

/**
 * Insert a code cell holding `source` below a notebook's active cell (at
 * the end when no cell is active), make it the active cell and scroll to
 * it. The cell is not run.
 */
export async function insertCodeCellBelow(
  panel: NotebookPanel,
  source: string
): Promise<void> {
  await panel.context.ready;
  const notebook = panel.content;
  const model = notebook.model;
  if (!model) {
    throw new Error(`${panel.title.label} is not loaded yet.`);
  }
  if (model.readOnly) {
    throw new Error(`${panel.title.label} is read-only.`);
  }
  const active = notebook.activeCellIndex;
  const index = active < 0 ? model.cells.length : active + 1;
  model.sharedModel.insertCell(index, { cell_type: 'code', source });
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  const cell = notebook.activeCell;
  if (cell) {
    await notebook.scrollToCell(cell);
  }
  notebook.mode = 'command';
}
