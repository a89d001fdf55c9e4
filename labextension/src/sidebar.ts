import { Token } from '@lumino/coreutils';
import { BoxLayout, TabPanel, Widget } from '@lumino/widgets';

import { VIEW_TABS } from './viewIcons';

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
 * The MLOps sidebar: one icon tab per view (Overview, Runs, ...), with a
 * tooltip, so every view's tab fits the sidebar's default width; the
 * current view's name shows as a small heading under the tabs.
 *
 * A view is any widget; its `title.label` names it (read by screen readers
 * and shown in the heading) and `VIEW_TABS` gives its icon and tooltip.
 * Views are ordered by rank, so each domain adds its own without knowing
 * the others.
 */
export class MlopsSidebar extends TabPanel implements IMlopsSidebar {
  constructor() {
    super({ tabPlacement: 'top', tabsMovable: false });
    this.addClass('jp-mlops-sidebar');
    this.tabBar.addClass('jp-mlops-tabs');
    this._heading.addClass('jp-mlops-sidebar-heading');
    this._heading.node.setAttribute('aria-hidden', 'true');
    (this.layout as BoxLayout).insertWidget(1, this._heading);
    this.currentChanged.connect(this._showHeading, this);
  }

  addView(view: ViewId, widget: Widget, rank: number): void {
    widget.addClass('jp-mlops-view');
    widget.id = widget.id || `mlops-lab-view-${view}`;
    widget.node.dataset.view = view;
    const tab = VIEW_TABS[view];
    widget.title.icon = widget.title.icon || tab.icon;
    widget.title.caption = widget.title.caption || tab.caption;
    widget.title.dataset = { ...widget.title.dataset, view };
    this._views.set(view, { widget, rank });
    const index = [...this._views.values()]
      .map(v => v.rank)
      .filter(r => r <= rank).length;
    this.insertWidget(index - 1, widget);
    this._showHeading();
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

  private _showHeading(): void {
    this._heading.node.textContent = this.currentWidget?.title.label ?? '';
  }

  private _heading = new Widget();
  private _views = new Map<ViewId, { widget: Widget; rank: number }>();
}
