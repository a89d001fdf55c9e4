import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import {
  INotebookModel,
  INotebookWidgetFactory,
  NotebookPanel,
  NotebookWidgetFactory
} from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';

/**
 * The widget factory executed copies open with (see `openNotebookAt`).
 */
export const EXECUTED_FACTORY = 'mlops-lab-executed-notebook';

/**
 * What the server writes in an executed copy's metadata
 * (`metadata.mlops_lab.executed`, see POST runs/{id}/stages/{stage}/open).
 */
export interface IExecutedMark {
  run_id: string;
  stage: string;
  /**
   * The saved notebook the stage ran, relative to the workspace.
   */
  notebook: string;
  status: string;
}

/**
 * The folder of executed copies in the workspace (the server's OPEN_FOLDER).
 */
const COPIES_FOLDER = 'mlops-lab-runs/';

/**
 * An executed copy's tab title: `name.ipynb (run r..., executed)`.
 */
export function executedTitle(mark: IExecutedMark): string {
  return `${PathExt.basename(mark.notebook)} (run ${mark.run_id}, executed)`;
}

/**
 * The mark of an executed copy, or null for any other notebook.
 */
export function executedMark(model: INotebookModel): IExecutedMark | null {
  const meta = model.getMetadata('mlops_lab') as
    { executed?: Partial<IExecutedMark> } | undefined;
  const mark = meta?.executed;
  if (
    !mark ||
    typeof mark.run_id !== 'string' ||
    typeof mark.stage !== 'string' ||
    typeof mark.notebook !== 'string'
  ) {
    return null;
  }
  return {
    run_id: mark.run_id,
    stage: mark.stage,
    notebook: mark.notebook,
    status: typeof mark.status === 'string' ? mark.status : 'unknown'
  };
}

/**
 * The saved notebook's path relative to the server root: the copy lives in
 * `<workspace>/mlops-lab-runs/`, the notebook's path is workspace-relative.
 */
export function sourcePath(copyPath: string, mark: IExecutedMark): string {
  const at = copyPath.lastIndexOf(COPIES_FOLDER);
  const workspace = at > 0 ? copyPath.slice(0, at) : '';
  return workspace + mark.notebook;
}

/**
 * Make an executed copy a read-only record: its title and a banner saying
 * what it is (with a link to the saved notebook). It never has a kernel:
 * its factory cannot start one.
 */
function markExecuted(
  panel: NotebookPanel,
  docManager: IDocumentManager
): void {
  panel.addClass('jp-mlops-executed');
  // The title is not the file name: a label change must not rename the copy.
  const onTitle = (
    DocumentWidget.prototype as unknown as {
      _onTitleChanged: (sender: unknown) => void;
    }
  )._onTitleChanged;
  panel.title.changed.disconnect(onTitle, panel);
  void panel.context.ready.then(() => {
    const model = panel.context.model;
    const mark = executedMark(model);
    // Its cells are `editable: false` on disk (the server marks them): they
    // open read-only without a change to the model (it stays clean).
    model.readOnly = true;
    if (!mark) {
      return;
    }
    panel.title.label = executedTitle(mark);
    panel.contentHeader.addWidget(banner(panel, mark, docManager));
  });
}

function banner(
  panel: NotebookPanel,
  mark: IExecutedMark,
  docManager: IDocumentManager
): Widget {
  const node = document.createElement('div');
  node.className = 'jp-mlops-executed-banner';
  node.dataset.testid = 'mlops-executed-banner';
  const text = document.createElement('span');
  text.title = `${mark.notebook}: stage ${mark.stage} of run ${mark.run_id}`;
  text.textContent =
    `Executed copy, read-only, no kernel: stage ${mark.stage} of run ` +
    `${mark.run_id} (${mark.status}) of ${mark.notebook}.`;
  const open = document.createElement('button');
  open.className = 'jp-mlops-executed-open';
  open.type = 'button';
  open.textContent = `Open ${PathExt.basename(mark.notebook)}`;
  open.title = `Open the saved notebook ${mark.notebook} (to edit and run it)`;
  open.onclick = () => {
    docManager.openOrReveal(sourcePath(panel.context.localPath, mark));
  };
  node.append(text, open);
  return new Widget({ node });
}

/**
 * Opens the executed copies of stage runs: read-only, kernel-less, titled
 * `name.ipynb (run r..., executed)` with a banner. A factory of its own,
 * so these panels are not in the notebook tracker: nothing that works on
 * live notebooks (the widgets manager, notebook toolbar buttons) sees them.
 */
export const executedNotebooksPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-lab:executed-notebooks',
  description: 'Open the executed copies of stage runs read-only.',
  autoStart: true,
  requires: [INotebookWidgetFactory, IDocumentManager],
  activate: (
    app: JupyterFrontEnd,
    notebookFactory: NotebookWidgetFactory.IFactory,
    docManager: IDocumentManager
  ): void => {
    const base = notebookFactory as NotebookWidgetFactory;
    const factory = new NotebookWidgetFactory({
      name: EXECUTED_FACTORY,
      label: 'Executed notebook (read-only)',
      fileTypes: ['notebook'],
      modelName: 'notebook',
      preferKernel: false,
      canStartKernel: false,
      shutdownOnClose: false,
      rendermime: base.rendermime,
      contentFactory: base.contentFactory,
      mimeTypeService: base.mimeTypeService,
      editorConfig: base.editorConfig,
      notebookConfig: base.notebookConfig
    });
    factory.widgetCreated.connect(
      (_: DocumentRegistry.WidgetFactory, panel: NotebookPanel) =>
        markExecuted(panel, docManager)
    );
    app.docRegistry.addWidgetFactory(factory);
  }
};
