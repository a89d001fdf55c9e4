import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { LoadedTab } from '../loadedTab';
import { DriftReport } from './drift';
import { EvaluationBody, evaluationLabel } from './evaluation';
import { ThemeStamp } from './plot';
import { IDriftReport, IEvaluationDetail, IEvaluationsApi } from './types';

/**
 * An evaluation in a main-area tab, loaded with `GET evaluations/{id}`:
 * its curves side by side, confusion matrix and per-slice metrics.
 */
export function createEvaluationTab(
  api: Pick<IEvaluationsApi, 'getEvaluation'>,
  id: string,
  themeChanged?: ISignal<unknown, unknown> | null
): LoadedTab<IEvaluationDetail> {
  const stamp = { value: 0 };
  const tab = new LoadedTab<IEvaluationDetail>({
    load: () => api.getEvaluation(id),
    title: evaluation =>
      evaluation
        ? {
            label: evaluationLabel(evaluation),
            caption: `Evaluation ${id} of ${evaluation.model} v${evaluation.version} on ${evaluation.dataset}@${evaluation.dataset_version}`
          }
        : { label: `eval ${id}` },
    render: evaluation => (
      <ThemeStamp.Provider value={stamp.value}>
        <EvaluationBody evaluation={evaluation} />
      </ThemeStamp.Provider>
    ),
    what: 'evaluation',
    testid: 'mlops-evaluation-tab'
  });
  tab.addClass('jp-mlops-evaluation-tab');
  tab.node.dataset.evaluation = id;
  followTheme(tab, stamp, themeChanged);
  return tab;
}

/**
 * A drift report in a main-area tab, loaded with `GET drift/{id}`: its
 * verdict, per-column tests and a column's histograms.
 */
export function createDriftTab(
  api: Pick<IEvaluationsApi, 'getDrift'>,
  id: string,
  themeChanged?: ISignal<unknown, unknown> | null
): LoadedTab<IDriftReport> {
  const stamp = { value: 0 };
  const tab = new LoadedTab<IDriftReport>({
    load: () => api.getDrift(id),
    title: report =>
      report
        ? {
            label: `drift: ${datasetName(report.current)}`,
            caption: `Drift of ${report.current} against ${report.reference} (${report.verdict})`
          }
        : { label: `drift ${id}` },
    render: report => (
      <ThemeStamp.Provider value={stamp.value}>
        <DriftTabView report={report} />
      </ThemeStamp.Provider>
    ),
    what: 'drift report',
    testid: 'mlops-drift-tab'
  });
  tab.addClass('jp-mlops-drift-tab');
  tab.node.dataset.drift = id;
  followTheme(tab, stamp, themeChanged);
  return tab;
}

function DriftTabView(props: { report: IDriftReport }): JSX.Element {
  const { report } = props;
  const first =
    report.columns.find(c => report.drifted.includes(c.column)) ??
    report.columns[0];
  const [column, setColumn] = React.useState<string | null>(
    first?.column ?? null
  );
  return (
    <DriftReport
      reports={[report]}
      report={report}
      column={column}
      onReport={() => undefined}
      onColumn={setColumn}
    />
  );
}

/**
 * The dataset's name of a `name@version` reference.
 */
function datasetName(ref: string): string {
  const at = ref.lastIndexOf('@');
  return at > 0 ? ref.slice(0, at) : ref;
}

/**
 * Redraw the charts in the new theme's colours.
 */
export function followTheme(
  tab: Widget,
  stamp: { value: number },
  themeChanged?: ISignal<unknown, unknown> | null
): void {
  themeChanged?.connect(() => {
    stamp.value += 1;
    tab.update();
  }, tab);
}
