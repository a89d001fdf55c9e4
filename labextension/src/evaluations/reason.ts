import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

/**
 * Ask why before acknowledging or closing an alert or an A/B test. The
 * reason is required: accepting without one asks again, saying so.
 *
 * @returns the reason, or `null` when cancelled
 */
export async function askReason(options: {
  /**
   * The dialog's title, e.g. `Close alert a1b2c3`.
   */
  title: string;
  /**
   * The accept button's label, e.g. `Acknowledge`.
   */
  action: string;
  /**
   * What is acted on, shown above the reason.
   */
  subject: string;
  placeholder: string;
}): Promise<string | null> {
  let reason = '';
  let problem = '';
  for (;;) {
    const result = await showDialog({
      title: options.title,
      body: new ReasonBody({ ...options, reason, problem }),
      focusNodeSelector: 'textarea',
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: options.action, ariaLabel: options.action })
      ]
    });
    if (!result.button.accept || result.value === null) {
      return null;
    }
    reason = result.value;
    if (reason) {
      return reason;
    }
    problem = 'A reason is required: it is kept with who acted.';
  }
}

class ReasonBody extends Widget implements Dialog.IBodyWidget<string> {
  constructor(options: {
    subject: string;
    placeholder: string;
    reason: string;
    problem: string;
  }) {
    super();
    this.addClass('jp-mlops-promote');
    this.addClass('jp-mlops-reason');
    const subject = document.createElement('p');
    subject.className = 'jp-mlops-promote-current';
    subject.textContent = options.subject;
    this._reason = document.createElement('textarea');
    this._reason.className = 'jp-mod-styled';
    this._reason.rows = 3;
    this._reason.value = options.reason;
    this._reason.placeholder = options.placeholder;
    this._reason.dataset.testid = 'mlops-reason';
    this._reason.setAttribute('aria-label', 'Reason');
    this._reason.required = true;
    const label = document.createElement('label');
    label.className = 'jp-mlops-promote-field';
    const text = document.createElement('span');
    text.textContent = 'Reason';
    label.append(text, this._reason);
    this.node.append(subject, label);
    if (options.problem) {
      const problem = document.createElement('p');
      problem.className = 'jp-mlops-promote-problem';
      problem.setAttribute('role', 'alert');
      problem.dataset.testid = 'mlops-reason-problem';
      problem.textContent = options.problem;
      this.node.appendChild(problem);
    }
  }

  getValue(): string {
    return this._reason.value.trim();
  }

  private _reason: HTMLTextAreaElement;
}
