import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { IStageChange } from './types';

/**
 * The change a ready stage makes to mlops_lab.yaml, as a unified diff:
 * added lines marked, the file's other lines as context.
 */
export function StageDiff(props: { change: IStageChange }): JSX.Element {
  const lines = props.change.diff.split('\n').filter(line => line !== '');
  return (
    <div className="jp-mlops-stage-change" data-testid="mlops-stage-change">
      <p>
        <strong>{props.change.notebook}</strong> is ready. It is not a stage of
        mlops_lab.yaml yet: add it as stage <code>{props.change.stage}</code> of
        pipeline <code>{props.change.pipeline}</code>? This is the change (the
        file&apos;s comments are kept):
      </p>
      <pre className="jp-mlops-stage-diff" data-testid="mlops-stage-diff">
        {lines.map((line, index) => {
          const kind =
            line.startsWith('+++') || line.startsWith('---')
              ? 'file'
              : line.startsWith('@@')
                ? 'hunk'
                : line.startsWith('+')
                  ? 'added'
                  : line.startsWith('-')
                    ? 'removed'
                    : 'context';
          return (
            <span key={index} className="jp-mlops-diff-line" data-kind={kind}>
              {line + '\n'}
            </span>
          );
        })}
      </pre>
      <p className="jp-mlops-stage-change-note">
        Cancel leaves mlops_lab.yaml as it is; the handoff is kept either way.
      </p>
    </div>
  );
}

/**
 * Ask whether to write the previewed change (true: the user confirmed).
 */
export async function confirmStageChange(
  change: IStageChange
): Promise<boolean> {
  const answer = await showDialog({
    title: 'Add the stage to mlops_lab.yaml?',
    body: <StageDiff change={change} />,
    buttons: [
      Dialog.cancelButton({ label: 'Cancel' }),
      Dialog.okButton({ label: 'Add to mlops_lab.yaml' })
    ]
  });
  return answer.button.accept;
}
