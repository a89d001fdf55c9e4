import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';

import { mlopsIcon } from './icons';
import { StatusModel } from './model';
import { MlopsPanel } from './panel';

/**
 * Command ids of the extension.
 */
export namespace CommandIDs {
  export const refresh = 'mlops-lab:refresh';
}

/**
 * The MLOps sidebar and its commands.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-lab:plugin',
  description: 'A notebook-centric MLOps workbench: the MLOps sidebar panel.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const model = new StatusModel({
      serverSettings: app.serviceManager.serverSettings
    });

    const panel = new MlopsPanel(model);
    panel.id = 'mlops-lab-panel';
    panel.title.icon = mlopsIcon;
    panel.title.caption = 'MLOps';
    panel.disposed.connect(() => model.dispose());

    app.commands.addCommand(CommandIDs.refresh, {
      label: 'MLOps: Refresh',
      caption: 'Reload the MLOps workspace status from the server',
      icon: refreshIcon,
      execute: () => model.refresh()
    });
    palette?.addItem({ command: CommandIDs.refresh, category: 'MLOps' });

    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, 'mlops-lab-panel');
  }
};

export default plugin;
