import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { formatNumber } from '../format';
import {
  IChangedFeature,
  IFeatureViewDiff,
  IFeatureViewVersion
} from './types';
import { DiffState } from './model';

/**
 * The versions of a view, newest first, and the diff between two of them.
 */
export function VersionsDiff(props: {
  versions: readonly IFeatureViewVersion[];
  diff: DiffState;
  onCompare: (a: number, b: number) => void;
}): JSX.Element {
  const { versions, diff, onCompare } = props;
  const numbers = versions.map(v => v.version).sort((x, y) => y - x);
  if (numbers.length < 2) {
    return (
      <p className="jp-mlops-placeholder">
        Only one version: register the view again with a changed definition to
        get a second one to compare.
      </p>
    );
  }
  const a = diff.phase === 'none' ? numbers[1] : diff.a;
  const b = diff.phase === 'none' ? numbers[0] : diff.b;
  const options = numbers.map(n => ({ value: String(n), label: `v${n}` }));
  return (
    <div
      className="jp-mlops-diff"
      data-testid="mlops-diff"
      data-phase={diff.phase}
    >
      <div
        className="jp-mlops-diff-pick"
        role="group"
        aria-label="Versions to compare"
      >
        <HTMLSelect
          aria-label="From version"
          data-testid="mlops-diff-a"
          value={String(a)}
          options={options}
          onChange={event => onCompare(Number(event.currentTarget.value), b)}
        />
        <span aria-hidden="true">→</span>
        <HTMLSelect
          aria-label="To version"
          data-testid="mlops-diff-b"
          value={String(b)}
          options={options}
          onChange={event => onCompare(a, Number(event.currentTarget.value))}
        />
        {diff.phase === 'none' && (
          <button
            type="button"
            className="jp-Button jp-mod-small jp-mlops-button"
            data-testid="mlops-diff-show"
            onClick={() => onCompare(a, b)}
          >
            Show diff
          </button>
        )}
      </div>
      {diff.phase === 'loading' && (
        <p className="jp-mlops-placeholder">Comparing…</p>
      )}
      {diff.phase === 'error' && (
        <ErrorNotice
          error={diff.error}
          title="The versions could not be compared"
          testid="mlops-diff-error"
        />
      )}
      {diff.phase === 'ok' && <DiffBody diff={diff.diff} />}
    </div>
  );
}

/**
 * Features added, removed and changed, then the definition's unified diff.
 */
function DiffBody(props: { diff: IFeatureViewDiff }): JSX.Element {
  const { diff } = props;
  const added = diff.features.added ?? [];
  const removed = diff.features.removed ?? [];
  const changed = diff.features.changed ?? [];
  const same =
    !added.length &&
    !removed.length &&
    !changed.length &&
    !diff.definition.length;
  if (same) {
    return (
      <p className="jp-mlops-placeholder" data-testid="mlops-diff-same">
        v{diff.a} and v{diff.b} have the same definition and features.
      </p>
    );
  }
  return (
    <>
      <ul className="jp-mlops-diff-features" aria-label="Changed features">
        {added.map(name => (
          <li
            key={`+${name}`}
            data-change="added"
            data-testid="mlops-diff-added"
          >
            <span className="jp-mlops-diff-sign" aria-label="added">
              +
            </span>
            <code>{name}</code>
          </li>
        ))}
        {removed.map(name => (
          <li
            key={`-${name}`}
            data-change="removed"
            data-testid="mlops-diff-removed"
          >
            <span className="jp-mlops-diff-sign" aria-label="removed">
              −
            </span>
            <code>{name}</code>
          </li>
        ))}
        {changed.map(change => (
          <li
            key={`~${change.name}`}
            data-change="changed"
            data-testid="mlops-diff-changed"
          >
            <span className="jp-mlops-diff-sign" aria-label="changed">
              ~
            </span>
            <code>{change.name}</code>
            <span className="jp-mlops-diff-change">
              {describeChange(change)}
            </span>
          </li>
        ))}
      </ul>
      {diff.definition.length > 0 && (
        <pre
          className="jp-mlops-code jp-mlops-diff-lines"
          data-testid="mlops-diff-definition"
          aria-label="Definition diff"
        >
          {diff.definition.map((line, i) => (
            <span key={i} data-line={lineKind(line)}>
              {line}
            </span>
          ))}
        </pre>
      )}
    </>
  );
}

/**
 * What a unified diff line is: a file header, a hunk header, an added or
 * removed line, or context.
 */
export function lineKind(
  line: string
): 'header' | 'hunk' | 'added' | 'removed' | 'context' {
  if (line.startsWith('+++') || line.startsWith('---')) {
    return 'header';
  }
  if (line.startsWith('@@')) {
    return 'hunk';
  }
  if (line.startsWith('+')) {
    return 'added';
  }
  if (line.startsWith('-')) {
    return 'removed';
  }
  return 'context';
}

/**
 * `DOUBLE → BIGINT, mean 2.5 → 3`, naming only what changed.
 */
function describeChange(change: IChangedFeature): string {
  const parts: string[] = [];
  const { a = {}, b = {} } = change;
  if (a.dtype !== b.dtype) {
    parts.push(`${a.dtype ?? '–'} → ${b.dtype ?? '–'}`);
  }
  if (a.mean !== b.mean) {
    parts.push(`mean ${formatNumber(a.mean)} → ${formatNumber(b.mean)}`);
  }
  return parts.join(', ');
}
