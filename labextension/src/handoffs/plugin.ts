import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { checkIcon } from '@jupyterlab/ui-components';

import { CommandIDs } from '../commands';
import { addView } from '../addView';
import { openNotebookAt, savedNotebookPath } from '../notebook';
import { asApiError } from '../request';
import { addDetailTabs, stringArg } from '../detailTabs';
import { IMlopsSidebar } from '../sidebar';
import { handoffsIcon } from '../viewIcons';
import { HandoffsApi } from './api';
import { HandoffsModel } from './model';
import { createHandoffTab } from './tab';
import { confirmStageChange } from './stageDialog';
import { CheckHandoffButton, openNotebookCell } from './toolbar';
import { HandoffsPanel } from './view';

/**
 * Rank of the Handoffs view: after Evaluations (300), before Runs (500).
 */
export const HANDOFFS_RANK = 400;

/**
 * The Handoffs view of the MLOps sidebar (is a notebook ready to become a
 * pipeline stage?) and the notebook toolbar button that checks one.
 */
export const handoffsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-lab:handoffs',
  description:
    'Handoffs: check that a notebook is ready to become a pipeline stage.',
  autoStart: true,
  requires: [IMlopsSidebar, IDocumentManager],
  optional: [
    ICommandPalette,
    INotebookTracker,
    IRenderMimeRegistry,
    ILayoutRestorer
  ],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IMlopsSidebar,
    docManager: IDocumentManager,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    rendermime: IRenderMimeRegistry | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const { commands } = app;
    const options: HandoffsModel.IOptions = {
      api: new HandoffsApi(app.serviceManager.serverSettings),
      links: {
        openNotebook: (path, cell, executed) =>
          executed
            ? openNotebookAt(docManager, path, cell)
            : openNotebookCell(docManager, path, cell),
        showRun: (runId, pipeline) => {
          void commands.execute(CommandIDs.showRuns, { runId, pipeline });
        },
        chooseStage: async ({ stage, takenBy, suggested }) => {
          const answer = await showDialog({
            title: 'Stage name already taken',
            body: `Stage ${stage} already runs ${takenBy}: use ${suggested} instead?`,
            buttons: [
              Dialog.cancelButton(),
              Dialog.okButton({ label: `Use ${suggested}` })
            ]
          });
          return answer.button.accept;
        },
        confirmStageChange,
        prepareEdit: async path => {
          const open = docManager.findWidget(path);
          if (!open?.context.model.dirty) {
            return true;
          }
          const answer = await showDialog({
            title: 'Unsaved changes',
            body:
              `${path} has unsaved changes. Adding a parameters cell ` +
              'changes the file on disk and reloads it: save your changes ' +
              'first?',
            buttons: [
              Dialog.cancelButton(),
              Dialog.okButton({ label: 'Save and add' })
            ]
          });
          if (!answer.button.accept) {
            return false;
          }
          await open.context.save();
          return true;
        },
        reloadNotebook: async path => {
          await docManager.findWidget(path)?.context.revert();
        },
        openTab: id => void commands.execute(CommandIDs.openHandoff, { id })
      }
    };
    const model = new HandoffsModel(options);
    // A handoff report opens as a main-area tab: {id}.
    addDetailTabs({
      app,
      restorer,
      namespace: 'mlops-lab-handoff',
      command: CommandIDs.openHandoff,
      label: 'Open Handoff',
      icon: handoffsIcon,
      caption: 'Open a handoff report in a main-area tab',
      key: args => stringArg(args, 'id'),
      create: (_, id) => createHandoffTab(options, id, rendermime)
    });
    const panel = new HandoffsPanel(model, rendermime);
    const reveal = addView({
      app,
      sidebar,
      palette,
      view: 'handoffs',
      rank: HANDOFFS_RANK,
      panel,
      model,
      show: {
        id: CommandIDs.showHandoffs,
        label: 'MLOps: Show Handoffs',
        caption: 'Show the handed-off notebooks in the MLOps sidebar',
        // Other views link here with the notebook to show.
        then: args => {
          if (typeof args.notebook === 'string') {
            const found = model.state.items.find(
              h => h.notebook === args.notebook
            );
            void model.select(found?.id ?? null);
          }
        }
      }
    });

    const check = async (notebook: NotebookPanel) => {
      let path: string;
      try {
        path = await savedNotebookPath(notebook);
      } catch (reason) {
        await showErrorMessage(
          'The notebook was not saved, so not checked',
          asApiError(reason).message
        );
        return;
      }
      reveal();
      await model.check({ notebook: path }, { show: true });
    };

    commands.addCommand(CommandIDs.checkHandoff, {
      label: 'MLOps: Check handoff',
      caption:
        'Save the current notebook and check that it is ready to become a ' +
        'pipeline stage: parameters, hidden state, paths, inputs, a clean ' +
        'run, outputs, metrics and environment',
      icon: checkIcon,
      isEnabled: () => !!notebooks?.currentWidget,
      execute: () => {
        const current = notebooks?.currentWidget;
        return current ? check(current) : undefined;
      }
    });
    palette?.addItem({ command: CommandIDs.checkHandoff, category: 'MLOps' });

    app.docRegistry.addWidgetExtension(
      'Notebook',
      new CheckHandoffButton(model, notebook => void check(notebook))
    );

    // A saved notebook may have made its handoff stale.
    notebooks?.widgetAdded.connect((_, notebook) => {
      notebook.context.saveState.connect((__, saved) => {
        if (saved === 'completed' && panel.isVisible) {
          void model.refresh();
        }
      });
    });
  }
};
