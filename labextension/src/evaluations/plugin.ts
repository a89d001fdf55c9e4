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
import { evaluationsIcon } from '../viewIcons';
import { EvaluationsApi } from './api';
import { EvaluationsModel } from './model';
import { createDriftTab, createEvaluationTab } from './tab';
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
  optional: [ICommandPalette, IThemeManager, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    sidebar: IMlopsSidebar,
    palette: ICommandPalette | null,
    themes: IThemeManager | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const api = new EvaluationsApi(app.serviceManager.serverSettings);
    const model = new EvaluationsModel({ api });
    // An evaluation and a drift report open as main-area tabs: {id}.
    addDetailTabs({
      app,
      restorer,
      namespace: 'mlops-lab-evaluation',
      command: CommandIDs.openEvaluation,
      label: 'Open Evaluation',
      icon: evaluationsIcon,
      caption: 'Open an evaluation (curves, confusion, slices) in a tab',
      key: args => stringArg(args, 'id'),
      create: (_, id) => createEvaluationTab(api, id, themes?.themeChanged)
    });
    addDetailTabs({
      app,
      restorer,
      namespace: 'mlops-lab-drift',
      command: CommandIDs.openDrift,
      label: 'Open Drift Report',
      icon: evaluationsIcon,
      caption: 'Open a drift report in a main-area tab',
      key: args => stringArg(args, 'id'),
      create: (_, id) => createDriftTab(api, id, themes?.themeChanged)
    });
    const open = (command: string) => (id: string) =>
      void app.commands.execute(command, { id });
    const panel = new EvaluationsPanel(model, themes?.themeChanged, {
      openEvaluation: open(CommandIDs.openEvaluation),
      openDrift: open(CommandIDs.openDrift)
    });
    addView({
      app,
      sidebar,
      palette,
      view: 'evaluations',
      rank: EVALUATIONS_RANK,
      panel,
      model,
      show: {
        id: EvaluationCommandIDs.showEvaluations,
        label: 'MLOps: Show Evaluations',
        caption: 'Show model evaluations, drift and alerts in the MLOps sidebar'
      }
    });
  }
};
