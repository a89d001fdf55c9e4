import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';

import { CommandIDs } from '../commands';
import { addView } from '../addView';
import { addDetailTabs, numberArg, stringArg } from '../detailTabs';
import { openNotebookAt } from '../notebook';
import { modelsIcon } from '../viewIcons';
import { IMlopsSidebar } from '../sidebar';
import { ModelsApi } from './api';
import { ModelsModel } from './model';
import { createComparisonTab, createVersionTab } from './tab';
import { ModelsPanel } from './view';

/**
 * Command ids of the Models view.
 */
export namespace ModelCommandIDs {
  export const showModels = 'mlops-lab:show-models';
}

/**
 * Rank of the Models view: after Features (100), before Runs (500).
 */
export const MODELS_RANK = 200;

/**
 * The Models view of the MLOps sidebar: registered models, their versions
 * and alias history, a version's signature and lineage, and promotion.
 */
export const modelsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-lab:models',
  description: 'Model registry: versions, aliases, lineage and promotion.',
  autoStart: true,
  requires: [IMlopsSidebar, IDocumentManager],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IMlopsSidebar,
    docManager: IDocumentManager,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const { commands } = app;
    const options: ModelsModel.IOptions = {
      api: new ModelsApi(app.serviceManager.serverSettings),
      links: {
        // The Features and Runs commands take the item to show as an
        // argument; until they use it they show their list.
        showFeatureView: ref => {
          const [name, version] = ref.split('@');
          void commands.execute(CommandIDs.showFeatures, {
            name,
            version: version ? Number(version) : null
          });
        },
        showRun: (runId, pipeline) => {
          void commands.execute(CommandIDs.showRuns, { runId, pipeline });
        },
        openNotebook: (path, cell) => openNotebookAt(docManager, path, cell),
        openVersionTab: (name, version) => {
          void commands.execute(CommandIDs.openModelVersion, { name, version });
        },
        openComparisonTab: (name, versions) => {
          void commands.execute(CommandIDs.openModelComparison, {
            name,
            versions: versions.join(',')
          });
        }
      }
    };
    const model = new ModelsModel(options);
    // A model version opens as a main-area tab: {name, version}.
    addDetailTabs({
      app,
      restorer,
      namespace: 'mlops-lab-model-version',
      command: CommandIDs.openModelVersion,
      label: 'Open Model Version',
      icon: modelsIcon,
      caption: 'Open a model version (lineage, signature, try it) in a tab',
      key: args => {
        const name = stringArg(args, 'name');
        const version = numberArg(args, 'version');
        return name && version !== null ? `${name}@${version}` : null;
      },
      create: args =>
        createVersionTab(
          options,
          stringArg(args, 'name') ?? '',
          numberArg(args, 'version') ?? 0
        )
    });
    // Versions side by side as a main-area tab: {name, versions: "1,2"}.
    addDetailTabs({
      app,
      restorer,
      namespace: 'mlops-lab-model-comparison',
      command: CommandIDs.openModelComparison,
      label: 'Compare Model Versions',
      icon: modelsIcon,
      caption: 'Open model versions side by side in a tab',
      key: args => {
        const name = stringArg(args, 'name');
        const versions = versionList(stringArg(args, 'versions'));
        return name && versions.length >= 2
          ? `${name}@${versions.join(',')}`
          : null;
      },
      create: args =>
        createComparisonTab(
          options.api,
          stringArg(args, 'name') ?? '',
          versionList(stringArg(args, 'versions'))
        )
    });
    addView({
      app,
      sidebar,
      palette,
      view: 'models',
      rank: MODELS_RANK,
      panel: new ModelsPanel(model),
      model,
      show: {
        id: ModelCommandIDs.showModels,
        label: 'MLOps: Show Models',
        caption: 'Show the registered models in the MLOps sidebar'
      }
    });
  }
};

/**
 * "1,2,3" as version numbers (what is not a whole number is left out).
 */
function versionList(text: string | null): number[] {
  return (text ?? '')
    .split(',')
    .map(Number)
    .filter(v => Number.isInteger(v) && v > 0);
}
