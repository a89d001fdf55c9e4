import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { IMlopsSidebar, ViewId } from './sidebar';

/**
 * How a view joins the MLOps sidebar.
 */
export interface IAddViewOptions {
  app: JupyterFrontEnd;
  sidebar: IMlopsSidebar;
  palette: ICommandPalette | null;
  view: ViewId;
  /**
   * Lower ranks come first (Overview is 0).
   */
  rank: number;
  panel: Widget;
  /**
   * Disposed with the panel.
   */
  model: IDisposable;
  /**
   * The command that shows the view (in the palette, category MLOps).
   */
  show: {
    id: string;
    label: string;
    caption: string;
    /**
     * What else to do with the command's arguments once the view is
     * shown, e.g. select the item other views link to.
     */
    then?: (args: ReadonlyPartialJSONObject) => void;
  };
}

/**
 * Add a view to the MLOps sidebar with its "show" command, its model
 * disposed with it.
 *
 * @returns a function that shows the view (and activates the sidebar)
 */
export function addView(options: IAddViewOptions): () => void {
  const { app, sidebar, panel, model, view, show } = options;
  panel.disposed.connect(() => model.dispose());
  sidebar.addView(view, panel, options.rank);
  const reveal = () => {
    sidebar.showView(view);
    app.shell.activateById(sidebar.id);
  };
  app.commands.addCommand(show.id, {
    label: show.label,
    caption: show.caption,
    execute: args => {
      reveal();
      show.then?.(args);
    }
  });
  options.palette?.addItem({ command: show.id, category: 'MLOps' });
  return reveal;
}
