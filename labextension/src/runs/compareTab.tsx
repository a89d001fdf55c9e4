import * as React from 'react';

import { LoadedTab } from '../loadedTab';
import { IRunComparison, IRunsApi } from './types';
import { ComparisonView } from './compare';

/**
 * The key of a comparison of runs `a` and `b` (a started first).
 */
export function comparisonKey(a: string, b: string): string {
  return `${a}..${b}`;
}

/**
 * Two runs compared in a main-area tab, titled "compare r1 · r2", loaded
 * with `GET runs/compare?a=&b=`: the parameters and metrics that differ,
 * the deltas coloured better or worse.
 */
export function createComparisonTab(
  api: Pick<IRunsApi, 'compareRuns'>,
  a: string,
  b: string
): LoadedTab<IRunComparison> {
  const tab = new LoadedTab<IRunComparison>({
    load: () => api.compareRuns(a, b),
    title: () => ({
      label: `compare ${a} · ${b}`,
      caption: `Runs ${a} (A) and ${b} (B) compared`
    }),
    render: comparison => (
      <ComparisonView comparison={{ phase: 'ok', a, b, comparison }} />
    ),
    what: 'comparison',
    testid: 'mlops-compare-tab'
  });
  tab.addClass('jp-mlops-compare-tab');
  tab.node.dataset.runs = comparisonKey(a, b);
  return tab;
}
