import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';

import { CommandIDs } from '../commands';
import { mlopsIcon } from '../icons';
import { LifecycleApi } from './api';
import { LifecycleModel } from './model';
import { comparisonCommand, linkCommand } from './links';
import { ILifecycleLink } from './types';
import { LifecycleWidget } from './widget';

/**
 * The Lifecycle view: one main-area tab (opened from the Overview or the
 * palette) showing the project's definition, its steps as a flow with the
 * loops back, and the timeline; each link opens its item's tab.
 */
export const lifecyclePlugin: JupyterFrontEndPlugin<void> = {
  id: 'mlops-lab:lifecycle',
  description:
    'The lifecycle view: project definition, steps, loops back and timeline.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const namespace = 'mlops-lab-lifecycle';
    const tracker = new WidgetTracker<MainAreaWidget<LifecycleWidget>>({
      namespace
    });
    const api = new LifecycleApi(app.serviceManager.serverSettings);
    const openLink = async (link: ILifecycleLink) => {
      let target = linkCommand(link);
      if (link.kind === 'comparison') {
        // The gate's versions side by side, when the decision is found.
        const found = await api
          .comparison(link.id, link.model)
          .catch(() => null);
        target = found ? comparisonCommand(found) : target;
      }
      if (target) {
        await app.commands.execute(target.command, target.args);
      }
    };
    app.commands.addCommand(CommandIDs.openLifecycle, {
      label: 'MLOps: Open Lifecycle',
      caption:
        'Open the project lifecycle: definition, steps, loops back and timeline',
      icon: mlopsIcon,
      execute: () => {
        const open = tracker.currentWidget;
        if (open && !open.isDisposed) {
          app.shell.activateById(open.id);
          return open;
        }
        const model = new LifecycleModel({ api });
        const content = new LifecycleWidget({
          model,
          openLink: link => void openLink(link)
        });
        content.title.icon = mlopsIcon;
        const widget = new MainAreaWidget({ content });
        widget.id = namespace;
        widget.title.closable = true;
        widget.addClass('jp-mlops-detail-tab');
        void tracker.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        return widget;
      }
    });
    palette?.addItem({ command: CommandIDs.openLifecycle, category: 'MLOps' });
    void restorer?.restore(tracker, {
      command: CommandIDs.openLifecycle,
      name: () => 'lifecycle'
    });
  }
};
