/**
 * The differences a handoff's reproduction and determinism checks list:
 * cells side by side (saved vs clean run, run 1 vs run 2) with their cause.
 */
import * as React from 'react';
import { formatNumber } from '../format';

import { IMetricDifference, IOutputDifference } from './types';

export function CellLink(props: {
  cell: number;
  testId: string;
  onCell: (cell: number) => void;
  opening: (cell: number) => boolean;
}): JSX.Element {
  const { cell, onCell, opening } = props;
  return (
    <button
      type="button"
      className="jp-mlops-link jp-mlops-handoff-cell"
      data-testid={props.testId}
      title={`Open the notebook at cell ${cell} (as JupyterLab counts them, from 1)`}
      disabled={opening(cell)}
      onClick={() => onCell(cell)}
    >
      cell {cell}
    </button>
  );
}

/**
 * The two sides of the differences a check lists: their keys in a
 * difference and their column headings.
 */
export const SIDES: Record<string, [keyof IOutputDifference, string, string]> =
  {
    reproduction: ['saved', 'saved', 'clean run'],
    determinism: ['run1', 'run 1', 'run 2']
  };

/**
 * One side of a difference: its first differing line (or display, or
 * error); the tooltip says how many lines differ.
 */
function Side(props: {
  difference: IOutputDifference;
  keyName: keyof IOutputDifference;
}): JSX.Element {
  const { difference, keyName } = props;
  const lines = difference.lines ?? 1;
  return (
    <td
      className="jp-mlops-handoff-diff-side"
      title={lines > 1 ? `The first of ${lines} differing lines` : undefined}
    >
      <code>{String(difference[keyName] ?? '')}</code>
    </td>
  );
}

/**
 * The first differing cells side by side (saved vs clean run, or run 1 vs
 * run 2 with the likely cause), each cell a link into the notebook.
 */
export function Differences(props: {
  check: string;
  cells: IOutputDifference[];
  metrics: IMetricDifference[];
  onCell: (cell: number) => void;
  opening: (cell: number) => boolean;
}): JSX.Element {
  const [first, left, right] = SIDES[props.check];
  const second: keyof IOutputDifference = first === 'run1' ? 'run2' : 'clean';
  return (
    <table
      className="jp-mlops-handoff-table jp-mlops-handoff-diff"
      data-testid="mlops-handoff-differences"
    >
      <thead>
        <tr>
          <th>where</th>
          <th>{left}</th>
          <th>{right}</th>
        </tr>
      </thead>
      {props.cells.map(difference => (
        <tbody
          key={difference.cell}
          data-cell={difference.cell}
          data-testid="mlops-handoff-difference"
        >
          <tr>
            <td>
              <CellLink
                cell={difference.cell}
                testId="mlops-handoff-difference-cell"
                onCell={props.onCell}
                opening={props.opening}
              />
            </td>
            <Side difference={difference} keyName={first} />
            <Side difference={difference} keyName={second} />
          </tr>
          {difference.cause && (
            <tr className="jp-mlops-handoff-diff-cause">
              <td />
              <td colSpan={2} data-testid="mlops-handoff-cause">
                likely cause: {difference.cause}
              </td>
            </tr>
          )}
        </tbody>
      ))}
      {props.metrics.length > 0 && (
        <tbody>
          {props.metrics.map(row => (
            <tr
              key={row.metric}
              data-metric={row.metric}
              data-testid="mlops-handoff-difference"
            >
              <td>
                <code>{row.metric}</code>
              </td>
              <td className="jp-mlops-handoff-diff-side">
                <code>{formatNumber(row.run1)}</code>
              </td>
              <td className="jp-mlops-handoff-diff-side">
                <code>{formatNumber(row.run2)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      )}
    </table>
  );
}
