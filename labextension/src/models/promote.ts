import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { IPromoteRequest } from './types';

/**
 * The aliases offered first; any other name can be typed.
 */
export const SUGGESTED_ALIASES = ['champion', 'challenger'];

/**
 * Numbers the dialogs' lists of aliases.
 */
let nextId = 0;

/**
 * Ask which alias to point at `version` and why. The reason is required:
 * accepting without one asks again, saying so.
 *
 * @returns the request, or `null` when cancelled
 */
export async function askPromotion(options: {
  model: string;
  version: number;
  /**
   * The model's aliases now (alias -> version), offered as choices.
   */
  aliases: Record<string, number>;
}): Promise<IPromoteRequest | null> {
  let alias = SUGGESTED_ALIASES[0];
  let reason = '';
  let problem = '';
  for (;;) {
    const body = new PromoteBody({ ...options, alias, reason, problem });
    const result = await showDialog({
      title: `Promote ${options.model} v${options.version}`,
      body,
      focusNodeSelector: problem ? 'textarea' : 'input',
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: 'Promote', ariaLabel: 'Promote' })
      ]
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    ({ alias, reason } = result.value);
    if (!alias) {
      problem = 'Name the alias to move, e.g. champion.';
    } else if (!reason) {
      problem = 'A reason is required: it is kept in the alias history.';
    } else {
      return { alias, version: options.version, reason };
    }
  }
}

/**
 * The dialog's form: alias (suggestions and free text) and reason.
 */
class PromoteBody
  extends Widget
  implements Dialog.IBodyWidget<{ alias: string; reason: string }>
{
  constructor(options: {
    version: number;
    aliases: Record<string, number>;
    alias: string;
    reason: string;
    problem: string;
  }) {
    super();
    this.addClass('jp-mlops-promote');
    const listId = `jp-mlops-promote-aliases-${nextId++}`;
    const names = [
      ...new Set([...SUGGESTED_ALIASES, ...Object.keys(options.aliases)])
    ];

    this._alias = document.createElement('input');
    this._alias.className = 'jp-mod-styled';
    this._alias.value = options.alias;
    this._alias.setAttribute('list', listId);
    this._alias.dataset.testid = 'mlops-promote-alias';
    this._alias.setAttribute('aria-label', 'Alias');
    const list = document.createElement('datalist');
    list.id = listId;
    for (const name of names) {
      const option = document.createElement('option');
      option.value = name;
      const at = options.aliases[name];
      if (at !== undefined) {
        option.label = `now v${at}`;
      }
      list.appendChild(option);
    }

    this._reason = document.createElement('textarea');
    this._reason.className = 'jp-mod-styled';
    this._reason.rows = 3;
    this._reason.value = options.reason;
    this._reason.placeholder = 'Why this version? (kept in the history)';
    this._reason.dataset.testid = 'mlops-promote-reason';
    this._reason.setAttribute('aria-label', 'Reason');
    this._reason.required = true;

    const current = document.createElement('p');
    current.className = 'jp-mlops-promote-current';
    const held = Object.entries(options.aliases)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, at]) => `${name} → v${at}`);
    current.textContent = held.length
      ? `Aliases now: ${held.join(', ')}.`
      : 'No aliases yet.';

    this.node.append(
      field('Alias', this._alias),
      list,
      field('Reason', this._reason),
      current
    );
    if (options.problem) {
      const problem = document.createElement('p');
      problem.className = 'jp-mlops-promote-problem';
      problem.setAttribute('role', 'alert');
      problem.dataset.testid = 'mlops-promote-problem';
      problem.textContent = options.problem;
      this.node.appendChild(problem);
    }
  }

  getValue(): { alias: string; reason: string } {
    return {
      alias: this._alias.value.trim(),
      reason: this._reason.value.trim()
    };
  }

  private _alias: HTMLInputElement;
  private _reason: HTMLTextAreaElement;
}

function field(label: string, control: HTMLElement): HTMLLabelElement {
  const node = document.createElement('label');
  node.className = 'jp-mlops-promote-field';
  const text = document.createElement('span');
  text.textContent = label;
  node.append(text, control);
  return node;
}
