import { ServerConnection } from '@jupyterlab/services';
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

import { ThemeStamp } from '../evaluations/plot';
import { followTheme } from '../evaluations/tab';
import { LoadedTab } from '../loadedTab';
import { RunsComparisonView } from './compareMany';
import {
  comparisonLabel,
  comparisonSetKey,
  compareManyRuns,
  IRunsComparison
} from './compareTypes';

/**
 * Two or more runs compared in a main-area tab, titled
 * `compare r1 · r2 · +3`, loaded with `GET runs/compare?runs=`: the
 * metrics with their deltas from the baseline (the first run; another can
 * be made the baseline in the tab), the parameters, and a chart. Its
 * charts load plotly only when drawn.
 */
export function createRunsComparisonTab(options: {
  runIds: readonly string[];
  settings?: ServerConnection.ISettings;
  openRun?: (runId: string) => void;
  themeChanged?: ISignal<unknown, unknown> | null;
}): LoadedTab<IRunsComparison> {
  let order = [...options.runIds];
  const stamp = { value: 0 };
  const tab: LoadedTab<IRunsComparison> = new LoadedTab<IRunsComparison>({
    load: () => compareManyRuns(order, options.settings),
    title: () => ({
      label: comparisonLabel(options.runIds),
      caption: `Runs ${order.join(', ')} compared; the baseline is ${order[0]}`
    }),
    render: comparison => (
      <ThemeStamp.Provider value={stamp.value}>
        <RunsComparisonView
          comparison={comparison}
          onOpenRun={options.openRun}
          onBaseline={runId => {
            order = [runId, ...order.filter(id => id !== runId)];
            void tab.reload();
          }}
        />
      </ThemeStamp.Provider>
    ),
    what: 'comparison',
    testid: 'mlops-compare-tab'
  });
  tab.addClass('jp-mlops-compare-tab');
  tab.node.dataset.runs = comparisonSetKey(options.runIds);
  followTheme(tab, stamp, options.themeChanged);
  return tab;
}
