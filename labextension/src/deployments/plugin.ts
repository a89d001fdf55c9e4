import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IThemeManager } from '@jupyterlab/apputils';

import { CommandIDs } from '../commands';
import { addView } from '../addView';
import { addDetailTabs, stringArg } from '../detailTabs';
import { IMlopsSidebar } from '../sidebar';
import { deploymentsIcon } from '../viewIcons';
import { DeploymentsApi } from './api';
import { DeploymentsModel } from './model';
import { createDeploymentTab } from './tab';
import { DeploymentsPanel } from './view';

/**
 * Rank of the Deployments view: after Handoffs (400), before Runs (500).
 */
export const DEPLOYMENTS_RANK = 450;

/**
 * The Deployments view of the MLOps sidebar: the model servers started
 * with `mlops-lab serve`, their live traffic, the canary's split, and the
 * open alerts.
 */
export const deploymentsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-lab:deployments',
  description:
    'Deployments: model servers, their traffic, canary split and alerts.',
  autoStart: true,
  requires: [IMlopsSidebar],
  optional: [ICommandPalette, IThemeManager, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IMlopsSidebar,
    palette: ICommandPalette | null,
    themes: IThemeManager | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const options: DeploymentsModel.IOptions = {
      api: new DeploymentsApi(app.serviceManager.serverSettings),
      openTab: id =>
        void app.commands.execute(CommandIDs.openDeployment, { id })
    };
    const model = new DeploymentsModel(options);
    // A deployment's dashboard opens as a main-area tab: {id}.
    addDetailTabs({
      app,
      restorer,
      namespace: 'mlops-lab-deployment',
      command: CommandIDs.openDeployment,
      label: 'Open Deployment',
      icon: deploymentsIcon,
      caption: "Open a deployment's dashboard in a main-area tab",
      key: args => stringArg(args, 'id'),
      create: (_, id) => createDeploymentTab(options, id)
    });
    const panel = new DeploymentsPanel(model, themes?.themeChanged);
    addView({
      app,
      sidebar,
      palette,
      view: 'deployments',
      rank: DEPLOYMENTS_RANK,
      panel,
      model,
      show: {
        id: CommandIDs.showDeployments,
        label: 'MLOps: Show Deployments',
        caption: 'Show the running model servers in the MLOps sidebar',
        then: args => {
          if (typeof args.id === 'string') {
            void model.select(args.id);
          }
        }
      }
    });
  }
};
