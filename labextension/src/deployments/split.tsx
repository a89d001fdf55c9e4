import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { formatShare } from '../format';
import { DeploymentsModel } from './model';
import { SplitBar } from './parts';
import { currentSplit } from './traffic';
import { IDeployment } from './types';

/**
 * The challenger shares offered as buttons.
 */
const PRESETS = [0, 0.1, 0.5, 1];

/**
 * Move the challenger's share: presets or a slider, a reason (kept in the
 * split history), and rolling back to 0 after a confirmation.
 */
export function SplitControl(props: {
  model: DeploymentsModel;
  deployment: IDeployment;
  pending: boolean;
}): JSX.Element {
  const { model, deployment, pending } = props;
  const split = currentSplit(deployment);
  const [value, setValue] = React.useState(split);
  const [reason, setReason] = React.useState('');
  const changed = Math.abs(value - split) > 1e-9;
  const apply = async () => {
    if (await model.setSplit(value, reason.trim())) {
      setReason('');
    }
  };
  return (
    <div className="jp-mlops-dp-control" data-testid="mlops-split-control">
      <div className="jp-mlops-dp-control-row">
        <SplitBar split={split} challenger />
        <span className="jp-mlops-meta">to the challenger now</span>
      </div>
      <div
        className="jp-mlops-dp-presets"
        role="group"
        aria-label="Challenger share"
      >
        {PRESETS.map(preset => (
          <button
            key={preset}
            type="button"
            className="jp-Button jp-mod-small jp-mlops-button"
            data-testid="mlops-split-preset"
            data-split={preset}
            aria-pressed={Math.abs(value - preset) < 1e-9}
            disabled={pending}
            onClick={() => setValue(preset)}
          >
            {formatShare(preset)}
          </button>
        ))}
        <input
          type="range"
          className="jp-mlops-dp-slider"
          min={0}
          max={100}
          step={5}
          value={Math.round(value * 100)}
          aria-label="Challenger share, percent"
          data-testid="mlops-split-slider"
          disabled={pending}
          onChange={event => setValue(Number(event.target.value) / 100)}
        />
        <output
          className="jp-mlops-dp-split-value"
          data-testid="mlops-split-value"
        >
          {formatShare(value)}
        </output>
      </div>
      <input
        type="text"
        className="jp-mod-styled jp-mlops-dp-reason"
        placeholder="Why? (kept in the split history)"
        aria-label="Reason for the new split"
        data-testid="mlops-split-reason"
        value={reason}
        disabled={pending}
        onChange={event => setReason(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter' && changed && reason.trim()) {
            void apply();
          }
        }}
      />
      <div className="jp-mlops-dp-control-row">
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mod-accept jp-mlops-button"
          data-testid="mlops-split-apply"
          disabled={pending || !changed || !reason.trim()}
          onClick={() => void apply()}
        >
          {changed
            ? `Set challenger to ${formatShare(value)}`
            : 'Pick a new share'}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-small jp-mod-warn jp-mlops-button"
          data-testid="mlops-rollback"
          title="Send all traffic back to the champion"
          disabled={pending || split === 0}
          onClick={() => void rollBack(model, deployment, reason.trim())}
        >
          Roll back
        </button>
      </div>
      {changed && !reason.trim() && (
        <p className="jp-mlops-meta" data-testid="mlops-split-hint">
          Give a reason to change the split: it is kept in the history.
        </p>
      )}
    </div>
  );
}

/**
 * Ask before sending all traffic back to the champion, then do it.
 */
async function rollBack(
  model: DeploymentsModel,
  deployment: IDeployment,
  reason: string
): Promise<void> {
  const champion = deployment.metadata?.served.champion;
  const body = new RollbackBody(
    `Send all traffic back to the champion ${deployment.ref}` +
      (champion ? ` (v${champion.version})` : '') +
      `? The challenger ${deployment.challenger ?? ''} stays loaded; ` +
      'its share goes from ' +
      `${formatShare(currentSplit(deployment))} to 0%.`,
    reason
  );
  const result = await showDialog({
    title: 'Roll back the canary',
    body,
    focusNodeSelector: 'input',
    buttons: [
      Dialog.cancelButton(),
      Dialog.warnButton({ label: 'Roll back', ariaLabel: 'Roll back' })
    ]
  });
  if (result.button.accept) {
    await model.setSplit(0, result.value || 'rollback');
  }
}

/**
 * The confirmation: what happens, and an optional reason.
 */
class RollbackBody extends Widget implements Dialog.IBodyWidget<string> {
  constructor(text: string, reason: string) {
    super();
    this.addClass('jp-mlops-dp-rollback');
    const message = document.createElement('p');
    message.textContent = text;
    this._reason = document.createElement('input');
    this._reason.className = 'jp-mod-styled';
    this._reason.value = reason;
    this._reason.placeholder = 'Why? (kept in the split history)';
    this._reason.dataset.testid = 'mlops-rollback-reason';
    this._reason.setAttribute('aria-label', 'Reason');
    this.node.append(message, this._reason);
  }

  getValue(): string {
    return this._reason.value.trim();
  }

  private _reason: HTMLInputElement;
}
