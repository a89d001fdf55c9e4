import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { LabIcon } from '@jupyterlab/ui-components';
import {
  ReadonlyJSONObject,
  ReadonlyJSONValue,
  ReadonlyPartialJSONObject
} from '@lumino/coreutils';
import { Widget } from '@lumino/widgets';

import { mlopsIcon } from './icons';

/**
 * A detail opened in the main area: one tab per item key, its content
 * titled by the item (the frame mirrors the content's title).
 */
export class DetailTab<T extends Widget = Widget> extends MainAreaWidget<T> {
  constructor(options: {
    content: T;
    key: string;
    args: ReadonlyJSONObject;
    namespace: string;
  }) {
    super({ content: options.content });
    this.key = options.key;
    this.args = options.args;
    this.id = `${options.namespace}-${tabIdPart(options.key)}`;
    this.addClass('jp-mlops-detail-tab');
    this.title.closable = true;
  }

  /**
   * The item shown: one tab per key.
   */
  readonly key: string;

  /**
   * The command arguments that open this tab again (after a reload).
   */
  readonly args: ReadonlyJSONObject;
}

/**
 * How one kind of detail opens as a main-area tab.
 */
export interface IDetailTabsOptions<T extends Widget> {
  app: JupyterFrontEnd;
  restorer: ILayoutRestorer | null;
  /**
   * The tracker's namespace (also the prefix of the tabs' ids), e.g.
   * `mlops-lab-run`.
   */
  namespace: string;
  /**
   * The command that opens a tab, e.g. `mlops-lab:open-run`.
   */
  command: string;
  /**
   * The command's label and caption (the palette shows them).
   */
  label: string;
  caption: string;
  /**
   * The item's key from the command's arguments, or null when they do not
   * name an item (the command then does nothing).
   */
  key: (args: ReadonlyPartialJSONObject) => string | null;
  /**
   * The tab's content for the item: it loads its own data by key, so a
   * restored tab works before the sidebar was ever shown. It sets its own
   * `title.label` (e.g. "churn v3") and caption.
   */
  create: (args: ReadonlyPartialJSONObject, key: string) => T;
  icon?: LabIcon;
}

/**
 * Add the command that opens one kind of detail as main-area tabs: one tab
 * per item (opening it again activates the open tab), restored with the
 * layout after a page reload (the restorer runs the command with the
 * saved arguments).
 *
 * @returns the tracker of the open tabs
 */
export function addDetailTabs<T extends Widget>(
  options: IDetailTabsOptions<T>
): WidgetTracker<DetailTab<T>> {
  const { app, namespace, command } = options;
  const tracker = new WidgetTracker<DetailTab<T>>({ namespace });
  void options.restorer?.restore(tracker, {
    command,
    args: widget => widget.args,
    name: widget => widget.key
  });
  app.commands.addCommand(command, {
    label: options.label,
    caption: options.caption,
    icon: options.icon ?? mlopsIcon,
    execute: args => {
      const key = options.key(args);
      if (key === null) {
        return;
      }
      const open = tracker.find(widget => widget.key === key);
      if (open) {
        app.shell.activateById(open.id);
        return open;
      }
      const content = options.create(args, key);
      // The frame mirrors its content's title.
      content.title.icon = content.title.icon || (options.icon ?? mlopsIcon);
      content.title.closable = true;
      const widget = new DetailTab<T>({
        content,
        key,
        args: keptArgs(args),
        namespace
      });
      void tracker.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      return widget;
    }
  });
  return tracker;
}

/**
 * A string argument, or null.
 */
export function stringArg(
  args: ReadonlyPartialJSONObject,
  name: string
): string | null {
  const value = args[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * A whole-number argument (a number or a numeric string), or null.
 */
export function numberArg(
  args: ReadonlyPartialJSONObject,
  name: string
): number | null {
  const value = args[name];
  const parsed = typeof value === 'string' ? Number(value) : value;
  return typeof parsed === 'number' && Number.isInteger(parsed) ? parsed : null;
}

/**
 * Only the JSON arguments of the call (the command registry may add
 * others), so the restorer saves what reopens the tab.
 */
function keptArgs(args: ReadonlyPartialJSONObject): ReadonlyJSONObject {
  const kept: { [name: string]: ReadonlyJSONValue } = {};
  for (const [name, value] of Object.entries(args)) {
    if (value !== undefined && !name.startsWith('_')) {
      kept[name] = value as ReadonlyJSONValue;
    }
  }
  return kept;
}

/**
 * A key made safe for a DOM id.
 */
function tabIdPart(key: string): string {
  return key.replace(
    /[^A-Za-z0-9-]/g,
    char => `_${char.charCodeAt(0).toString(16)}`
  );
}
