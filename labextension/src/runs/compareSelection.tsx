import { closeIcon, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IRun } from './types';
import { MAX_COMPARED_RUNS } from './compareTypes';

/**
 * The ticked runs in the order they are compared: the one started first is
 * the baseline (as `A` of a two-run comparison).
 */
export function comparedOrder(
  selected: readonly string[],
  runs: readonly IRun[]
): string[] {
  const started = (id: string) =>
    runs.find(run => run.id === id)?.started_at ?? '';
  return [...selected].sort((x, y) => started(x).localeCompare(started(y)));
}

/**
 * The sidebar's line for the ticked runs when they are not two (two show
 * their differences inline): a hint for one, a "Compare N runs" button
 * that opens them side by side in a main-area tab for three or more.
 */
export function CompareSelection(props: {
  selected: readonly string[];
  runs: readonly IRun[];
  onOpen?: (runIds: string[]) => void;
  onClear: () => void;
}): JSX.Element | null {
  const { selected, runs, onOpen, onClear } = props;
  if (selected.length === 0 || selected.length === 2) {
    return null;
  }
  return (
    <div
      className="jp-mlops-compare-selection"
      data-testid="mlops-compare-selection"
      data-count={selected.length}
    >
      {selected.length === 1 ? (
        <span className="jp-mlops-compare-hint">
          Tick more runs to compare them (up to {MAX_COMPARED_RUNS}).
        </span>
      ) : (
        <button
          type="button"
          className="jp-mod-styled jp-mod-accept"
          data-testid="mlops-compare-many-open"
          title="Open the ticked runs side by side in a main-area tab; the one started first is the baseline"
          disabled={!onOpen}
          onClick={() => onOpen?.(comparedOrder(selected, runs))}
        >
          Compare {selected.length} runs
        </button>
      )}
      <ToolbarButtonComponent
        icon={closeIcon}
        tooltip="Clear the selection"
        dataset={{ testid: 'mlops-compare-clear' }}
        onClick={onClear}
      />
    </div>
  );
}
