import { Token } from '@lumino/coreutils';
import { TabPanel, Widget } from '@lumino/widgets';

/**
 * Ids of the sidebar's views. Overview sections link to the view of the
 * same id when there is one.
 */
export type ViewId =
  | 'overview'
  | 'features'
  | 'models'
  | 'evaluations'
  | 'handoffs'
  | 'deployments'
  | 'runs';

/**
 * Shows one view of the sidebar, if it has it.
 */
export interface IViewNavigator {
  hasView(view: ViewId): boolean;
  showView(view: ViewId): void;
}

/**
 * The MLOps sidebar, as other plugins see it: they add their view to it.
 */
export interface IMlopsSidebar extends IViewNavigator {
  /**
   * The sidebar widget's id (to activate it in the shell).
   */
  readonly id: string;
  /**
   * Add a view; lower ranks come first (Overview is 0).
   */
  addView(view: ViewId, widget: Widget, rank: number): void;
}

/**
 * The token of the MLOps sidebar.
 */
export const IMlopsSidebar = new Token<IMlopsSidebar>(
  'mlops-lab:IMlopsSidebar',
  'The MLOps sidebar, to add a view (tab) to.'
);

/**
 * The MLOps sidebar: one tab per view (Overview, Runs, ...).
 *
 * A view is any widget; its `title.label` and `title.icon` make its tab.
 * Views are ordered by rank, so each domain adds its own without knowing
 * the others.
 */
export class MlopsSidebar extends TabPanel implements IMlopsSidebar {
  constructor() {
    super({ tabPlacement: 'top', tabsMovable: false });
    this.addClass('jp-mlops-sidebar');
    this.tabBar.addClass('jp-mlops-tabs');
  }

  addView(view: ViewId, widget: Widget, rank: number): void {
    widget.addClass('jp-mlops-view');
    widget.id = widget.id || `mlops-lab-view-${view}`;
    widget.node.dataset.view = view;
    this._views.set(view, { widget, rank });
    const index = [...this._views.values()]
      .map(v => v.rank)
      .filter(r => r <= rank).length;
    this.insertWidget(index - 1, widget);
  }

  hasView(view: ViewId): boolean {
    return this._views.has(view);
  }

  /**
   * Make a view the current tab.
   */
  showView(view: ViewId): void {
    const found = this._views.get(view);
    if (found) {
      this.currentWidget = found.widget;
    }
  }

  private _views = new Map<ViewId, { widget: Widget; rank: number }>();
}
