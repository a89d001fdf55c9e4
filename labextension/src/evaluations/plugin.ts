import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IThemeManager } from '@jupyterlab/apputils';

import { IMlopsSidebar } from '../sidebar';
import { EvaluationsApi } from './api';
import { EvaluationsModel } from './model';
import { EvaluationsPanel } from './view';

/**
 * Command ids of the Evaluations view.
 */
export namespace EvaluationCommandIDs {
  export const showEvaluations = 'mlops-lab:show-evaluations';
}

/**
 * Rank of the Evaluations view: right after Models (200).
 */
export const EVALUATIONS_RANK = 300;

/**
 * The Evaluations view of the MLOps sidebar: metrics across versions,
 * curves, gate decisions, drift, A/B tests and open alerts.
 */
export const evaluationsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-lab:evaluations',
  description: 'Evaluations, gate decisions, drift, A/B tests and alerts.',
  autoStart: true,
  requires: [IMlopsSidebar],
  optional: [ICommandPalette, IThemeManager],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IMlopsSidebar,
    palette: ICommandPalette | null,
    themes: IThemeManager | null
  ): void => {
    const model = new EvaluationsModel({
      api: new EvaluationsApi(app.serviceManager.serverSettings)
    });
    const panel = new EvaluationsPanel(model, themes?.themeChanged);
    panel.disposed.connect(() => model.dispose());
    sidebar.addView('evaluations', panel, EVALUATIONS_RANK);

    app.commands.addCommand(EvaluationCommandIDs.showEvaluations, {
      label: 'MLOps: Show Evaluations',
      caption: 'Show model evaluations, drift and alerts in the MLOps sidebar',
      execute: () => {
        sidebar.showView('evaluations');
        app.shell.activateById(sidebar.id);
      }
    });
    palette?.addItem({
      command: EvaluationCommandIDs.showEvaluations,
      category: 'MLOps'
    });
  }
};
