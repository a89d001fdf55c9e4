import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

import { CommandIDs } from '../commands';
import { addView } from '../addView';
import { insertCodeCellBelow } from '../notebook';
import { IMlopsSidebar } from '../sidebar';
import { FeaturesApi } from './api';
import { FeaturesModel } from './model';
import { FeaturesPanel } from './view';

/**
 * What to say when "Insert code" has no notebook to insert into.
 */
export const NO_NOTEBOOK =
  'No notebook is open. Open or create a notebook, click the cell to ' +
  'insert below, then press Insert code again (or use Copy).';

/**
 * The Features view of the MLOps sidebar: search feature views, inspect
 * their features, versions and consumers, and insert the code using them
 * into a notebook.
 */
export const featuresPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-lab:features',
  description: 'Feature store: search, inspect and use feature views.',
  autoStart: true,
  requires: [IMlopsSidebar],
  optional: [ICommandPalette, INotebookTracker, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IMlopsSidebar,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    rendermime: IRenderMimeRegistry | null
  ): void => {
    const model = new FeaturesModel({
      api: new FeaturesApi(app.serviceManager.serverSettings),
      insertCode: async code => {
        const notebook = notebooks?.currentWidget;
        if (!notebook || notebook.isDisposed) {
          throw new Error(NO_NOTEBOOK);
        }
        await insertCodeCellBelow(notebook, code);
        app.shell.activateById(notebook.id);
        return notebook.title.label;
      }
    });
    addView({
      app,
      sidebar,
      palette,
      view: 'features',
      rank: 100,
      panel: new FeaturesPanel(model, rendermime),
      model,
      show: {
        id: CommandIDs.showFeatures,
        label: 'MLOps: Show Features',
        caption: 'Search the feature views in the MLOps sidebar',
        // Other views link here with the view to show: {name, version?}.
        then: args => {
          if (typeof args.name === 'string') {
            const version = args.version;
            void model.select(args.name).then(() => {
              if (typeof version === 'number' && version > 0) {
                void model.setVersion(version);
              }
            });
          }
        }
      }
    });
  }
};
