import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IThemeManager,
  showErrorMessage
} from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { runIcon } from '@jupyterlab/ui-components';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { CommandIDs } from '../commands';
import { addView } from '../addView';
import { addDetailTabs, stringArg } from '../detailTabs';
import { mlopsIcon } from '../icons';
import {
  openNotebookAt,
  RunNotebookButton,
  savedNotebookPath
} from '../notebook';
import { asApiError } from '../request';
import { IMlopsSidebar } from '../sidebar';
import { RunsApi } from './api';
import { RunsModel } from './model';
import { createRunTab } from './tab';
import { createRunsComparisonTab } from './compareManyTab';
import { comparisonSetKey, runList } from './compareTypes';
import { RunsPanel } from './view';

/**
 * The Runs view of the MLOps sidebar, its commands and the notebook
 * toolbar button that runs a notebook as a one-stage pipeline.
 */
export const runsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-lab:runs',
  description: 'Pipeline runs: list, start, follow, cancel and compare them.',
  autoStart: true,
  requires: [IMlopsSidebar, IDocumentManager],
  optional: [ICommandPalette, INotebookTracker, ILayoutRestorer, IThemeManager],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IMlopsSidebar,
    docManager: IDocumentManager,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    restorer: ILayoutRestorer | null,
    themes: IThemeManager | null
  ): void => {
    const api = new RunsApi(app.serviceManager.serverSettings);
    const model = new RunsModel({
      api,
      openNotebook: (path, cell) => openNotebookAt(docManager, path, cell)
    });
    // Runs opened as main-area tabs: one per run, restored with the layout.
    addDetailTabs({
      app,
      restorer,
      namespace: 'mlops-lab-run',
      command: CommandIDs.openRun,
      label: 'Open Run',
      icon: runIcon,
      caption: 'Open a run, with its stage graph, in a main-area tab',
      key: args => stringArg(args, 'runId'),
      create: (_, runId) => createRunTab(model, api, runId)
    });
    // Runs compared, as a main-area tab (one per set of runs):
    // {runs: "r1,r2,r3"} (the baseline first), or {a, b} as before.
    const comparedRuns = (args: ReadonlyPartialJSONObject) =>
      runList(
        stringArg(args, 'runs'),
        stringArg(args, 'a'),
        stringArg(args, 'b')
      );
    addDetailTabs({
      app,
      restorer,
      namespace: 'mlops-lab-run-comparison',
      command: CommandIDs.openRunComparison,
      label: 'Open Run Comparison',
      icon: runIcon,
      caption: 'Open two or more runs side by side in a main-area tab',
      key: args => {
        const runIds = comparedRuns(args);
        return runIds.length >= 2 ? comparisonSetKey(runIds) : null;
      },
      create: args =>
        createRunsComparisonTab({
          runIds: comparedRuns(args),
          settings: app.serviceManager.serverSettings,
          openRun: runId =>
            void app.commands.execute(CommandIDs.openRun, { runId }),
          themeChanged: themes?.themeChanged
        })
    });
    const panel = new RunsPanel(
      model,
      runId => void app.commands.execute(CommandIDs.openRun, { runId }),
      runIds =>
        void app.commands.execute(CommandIDs.openRunComparison, {
          runs: runIds.join(',')
        })
    );
    const reveal = addView({
      app,
      sidebar,
      palette,
      view: 'runs',
      rank: 500,
      panel,
      model,
      show: {
        id: CommandIDs.showRuns,
        label: 'MLOps: Show Runs',
        caption: 'Show the pipeline runs in the MLOps sidebar',
        // Other views link here with the run to show: {runId, pipeline}.
        then: args => {
          if (typeof args.runId === 'string') {
            const pipeline =
              typeof args.pipeline === 'string' ? args.pipeline : null;
            model.revealRun(args.runId, pipeline);
          }
        }
      }
    });

    const runNotebook = async (notebook: NotebookPanel) => {
      try {
        const path = await savedNotebookPath(notebook);
        await model.startRun({ notebook: path });
        reveal();
      } catch (reason) {
        await showErrorMessage(
          'The notebook was not run',
          asApiError(reason).message
        );
      }
    };

    app.commands.addCommand(CommandIDs.runPipeline, {
      label: 'MLOps: Run Pipeline…',
      caption: 'Choose a pipeline, set its parameters and start a run',
      icon: runIcon,
      execute: () => {
        reveal();
        panel.openLauncher();
      }
    });
    app.commands.addCommand(CommandIDs.runNotebook, {
      label: 'MLOps: Run notebook as pipeline stage',
      caption:
        'Save the current notebook and run it as a one-stage pipeline, ' +
        'recorded in the Runs view',
      icon: mlopsIcon,
      isEnabled: () => !!notebooks?.currentWidget,
      execute: () => {
        const current = notebooks?.currentWidget;
        return current ? runNotebook(current) : undefined;
      }
    });
    for (const command of [CommandIDs.runPipeline, CommandIDs.runNotebook]) {
      palette?.addItem({ command, category: 'MLOps' });
    }

    app.docRegistry.addWidgetExtension(
      'Notebook',
      new RunNotebookButton(notebook => void runNotebook(notebook))
    );
  }
};
