import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';

import { CommandIDs } from './commands';
import { deploymentsPlugin } from './deployments/plugin';
import { evaluationsPlugin } from './evaluations/plugin';
import { executedNotebooksPlugin } from './executed';
import { featuresPlugin } from './features/plugin';
import { handoffsPlugin } from './handoffs/plugin';
import { lifecyclePlugin } from './lifecycle/plugin';
import { mlopsIcon } from './icons';
import { StatusModel } from './model';
import { modelsPlugin } from './models/plugin';
import { MlopsPanel } from './panel';
import { runsPlugin } from './runs/plugin';
import { IMlopsSidebar, MlopsSidebar } from './sidebar';

export { CommandIDs } from './commands';
export { IMlopsSidebar } from './sidebar';

/**
 * The MLOps sidebar with its Overview; other plugins add their views to it
 * through `IMlopsSidebar`.
 */
const sidebarPlugin: JupyterFrontEndPlugin<IMlopsSidebar> = {
  id: 'mlops-lab:plugin',
  description: 'A notebook-centric MLOps workbench: the MLOps sidebar panel.',
  autoStart: true,
  provides: IMlopsSidebar,
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): IMlopsSidebar => {
    const sidebar = new MlopsSidebar();
    sidebar.id = 'mlops-lab-panel';
    sidebar.title.icon = mlopsIcon;
    sidebar.title.caption = 'MLOps';

    const model = new StatusModel({
      serverSettings: app.serviceManager.serverSettings
    });
    const overview = new MlopsPanel(
      model,
      sidebar,
      () => void app.commands.execute(CommandIDs.openLifecycle)
    );
    overview.disposed.connect(() => model.dispose());
    sidebar.addView('overview', overview, 0);

    app.commands.addCommand(CommandIDs.refresh, {
      label: 'MLOps: Refresh',
      caption: 'Reload the MLOps workspace status from the server',
      icon: refreshIcon,
      execute: () => model.refresh()
    });
    palette?.addItem({ command: CommandIDs.refresh, category: 'MLOps' });

    app.shell.add(sidebar, 'left', { rank: 600 });
    restorer?.add(sidebar, 'mlops-lab-panel');
    return sidebar;
  }
};

export default [
  sidebarPlugin,
  featuresPlugin,
  modelsPlugin,
  evaluationsPlugin,
  handoffsPlugin,
  deploymentsPlugin,
  runsPlugin,
  executedNotebooksPlugin,
  lifecyclePlugin
];
