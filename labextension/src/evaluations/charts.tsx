import type { ITrace } from 'plotly.js-basic-dist-min';
import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { byMetric, formatNumber, formatShare } from '../format';
import { Plot } from './plot';
import {
  ICurve,
  IDriftHistogram,
  IEvaluationDetail,
  IResiduals
} from './types';
import { IVersionRow, valueRange } from './versions';

/**
 * The diagonal of the unit square: a random classifier's ROC, a perfectly
 * calibrated model's calibration curve.
 */
function diagonal(name: string): ITrace {
  return {
    type: 'scatter',
    mode: 'lines',
    name,
    x: [0, 1],
    y: [0, 1],
    hoverinfo: 'skip',
    line: { color: 'var(--jp-ui-font-color3)', dash: 'dot', width: 1 }
  };
}

const UNIT = { range: [0, 1] as [number, number] };

/**
 * ROC, precision-recall and calibration curves of a classification
 * evaluation, or the histogram of a regression's residuals.
 */
export function EvaluationCharts(props: {
  evaluation: IEvaluationDetail;
}): JSX.Element {
  const { evaluation } = props;
  const { curves, residuals, metrics } = evaluation;
  const charts: JSX.Element[] = [];
  if (curves?.roc) {
    const auc = metrics.roc_auc ?? metrics.auc ?? null;
    charts.push(
      <CurveChart
        key="roc"
        kind="roc"
        title={`ROC${auc === null ? '' : ` · AUC ${formatNumber(auc)}`}`}
        curve={curves.roc}
        x="False positive rate"
        y="True positive rate"
        reference={diagonal('chance')}
      />
    );
  }
  if (curves?.pr) {
    const ap = metrics.pr_auc ?? metrics.average_precision ?? null;
    charts.push(
      <CurveChart
        key="pr"
        kind="pr"
        title={`Precision–recall${ap === null ? '' : ` · AP ${formatNumber(ap)}`}`}
        curve={curves.pr}
        x="Recall"
        y="Precision"
      />
    );
  }
  if (curves?.calibration) {
    charts.push(
      <CurveChart
        key="calibration"
        kind="calibration"
        title="Calibration"
        curve={curves.calibration}
        x="Mean predicted probability"
        y="Fraction of positives"
        reference={diagonal('perfect')}
        counts={curves.calibration.counts}
      />
    );
  }
  if (residuals) {
    charts.push(<ResidualsChart key="residuals" residuals={residuals} />);
  }
  if (!charts.length) {
    return (
      <p className="jp-mlops-placeholder">
        No curves or residuals were recorded for this evaluation.
      </p>
    );
  }
  return <div className="jp-mlops-charts">{charts}</div>;
}

function CurveChart(props: {
  kind: string;
  title: string;
  curve: ICurve;
  x: string;
  y: string;
  reference?: ITrace;
  counts?: number[];
}): JSX.Element {
  const { curve, counts } = props;
  const traces: ITrace[] = [
    {
      type: 'scatter',
      mode: counts ? 'lines+markers' : 'lines',
      name: props.kind === 'calibration' ? 'model' : props.kind.toUpperCase(),
      x: curve.x,
      y: curve.y,
      line: { color: 'var(--jp-brand-color1)', width: 2 },
      marker: { color: 'var(--jp-brand-color1)', size: 5 },
      customdata: counts,
      hovertemplate: counts
        ? '%{x:.3f} → %{y:.3f}<br>%{customdata} rows<extra></extra>'
        : '%{x:.3f}, %{y:.3f}<extra></extra>'
    }
  ];
  if (props.reference) {
    traces.push(props.reference);
  }
  return (
    <figure className="jp-mlops-chart" data-chart={props.kind}>
      <figcaption>{props.title}</figcaption>
      <Plot
        traces={traces}
        label={props.title}
        testid={`mlops-plot-${props.kind}`}
        layout={{
          showlegend: false,
          xaxis: { ...UNIT, title: { text: props.x } },
          yaxis: { ...UNIT, title: { text: props.y } }
        }}
      />
    </figure>
  );
}

function ResidualsChart(props: { residuals: IResiduals }): JSX.Element {
  const { residuals } = props;
  const { edges, counts } = residuals.histogram;
  const traces: ITrace[] = [
    {
      type: 'bar',
      name: 'residuals',
      x: counts.map((_, i) => (edges[i] + edges[i + 1]) / 2),
      y: counts,
      width: counts.map((_, i) => edges[i + 1] - edges[i]),
      marker: { color: 'var(--jp-brand-color1)' },
      hovertemplate: '%{x:.3g}: %{y} rows<extra></extra>'
    }
  ];
  const title =
    `Residuals · mean ${formatNumber(residuals.mean)}, ` +
    `std ${formatNumber(residuals.std)}`;
  return (
    <figure className="jp-mlops-chart" data-chart="residuals">
      <figcaption>{title}</figcaption>
      <Plot
        traces={traces}
        label={title}
        testid="mlops-plot-residuals"
        layout={{
          showlegend: false,
          bargap: 0.05,
          xaxis: { title: { text: 'Actual − predicted' } },
          yaxis: { title: { text: 'Rows' } }
        }}
      />
    </figure>
  );
}

/**
 * One metric across the model's versions, a line per dataset version. The
 * version axis is categorical (only versions that exist) and the metric's
 * axis is clamped to the values shown.
 */
export function MetricOverVersions(props: {
  rows: IVersionRow[];
  metric: string | null;
  onMetric: (metric: string) => void;
}): JSX.Element | null {
  const { rows } = props;
  const names = [...new Set(rows.flatMap(e => Object.keys(e.metrics)))];
  names.sort(byMetric);
  if (!names.length) {
    return null;
  }
  const metric =
    props.metric && names.includes(props.metric) ? props.metric : names[0];
  const byDataset = new Map<string, IVersionRow[]>();
  for (const row of rows) {
    const value = row.metrics[metric];
    if (value === undefined || value === null) {
      continue;
    }
    const dataset = `${row.dataset}@${row.datasetVersion}`;
    byDataset.set(dataset, [...(byDataset.get(dataset) ?? []), row]);
  }
  const versions = [
    ...new Set([...byDataset.values()].flat().map(r => r.version))
  ].sort((a, b) => a - b);
  const traces: ITrace[] = [...byDataset].map(([dataset, shown]) => {
    const sorted = [...shown].sort((a, b) => a.version - b.version);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: dataset,
      x: sorted.map(r => `v${r.version}`),
      y: sorted.map(r => r.metrics[metric] as number),
      customdata: sorted.map(r => (r.evaluationId === null ? ' (gate)' : '')),
      hovertemplate: `%{x}: %{y:.4g}%{customdata}<extra>${dataset}</extra>`
    };
  });
  const range = valueRange(
    [...byDataset.values()].flat().map(r => r.metrics[metric] as number)
  );
  return (
    <figure
      className="jp-mlops-chart"
      data-chart="metric-over-versions"
      data-versions={versions.join(' ')}
      data-range={range ? range.map(v => v.toPrecision(4)).join(' ') : ''}
    >
      <figcaption className="jp-mlops-chart-pick">
        <span>Over versions</span>
        <HTMLSelect
          aria-label="Metric"
          data-testid="mlops-eval-metric"
          value={metric}
          onChange={event => props.onMetric(event.currentTarget.value)}
          options={names}
        />
      </figcaption>
      <Plot
        traces={traces}
        label={`${metric} over versions`}
        testid="mlops-plot-versions"
        height={200}
        layout={{
          xaxis: {
            title: { text: 'Version' },
            type: 'category',
            categoryorder: 'array',
            categoryarray: versions.map(v => `v${v}`)
          },
          yaxis: {
            title: { text: metric },
            ...(range ? { range, autorange: false } : {})
          }
        }}
      />
    </figure>
  );
}

/**
 * A column's distribution in the reference and current data, overlaid.
 * Numeric bins span the reference's 1st to 99th percentiles (equal-width,
 * log-spaced or quantiles for a skewed column); the rows below and above are
 * the first and last bars.
 */
export function DriftHistogram(props: {
  column: string;
  histogram: IDriftHistogram;
}): JSX.Element {
  const { column, histogram } = props;
  const { edges, categories, below, above } = histogram;
  const binned = !!edges && edges.length === histogram.reference.length + 1;
  const tails = binned && !!below && !!above;
  let labels: (string | number)[];
  let hover: string[] | undefined;
  let reference = histogram.reference;
  let current = histogram.current;
  if (tails && edges && below && above) {
    const last = edges.length - 1;
    labels = [
      `<${short(edges[0])}`,
      ...histogram.reference.map((_, i) => short(edges[i])),
      `>${short(edges[last])}`
    ];
    hover = [
      `below ${short(edges[0])} (1st percentile)`,
      ...histogram.reference.map(
        (_, i) => `${short(edges[i])} to ${short(edges[i + 1])}`
      ),
      `above ${short(edges[last])} (99th percentile)`
    ];
    reference = [below.reference, ...reference, above.reference];
    current = [below.current, ...current, above.current];
  } else if (binned && edges) {
    labels = histogram.reference.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  } else {
    labels = (categories ?? histogram.reference.map((_, i) => i)).map(String);
  }
  const numeric = typeof labels[0] === 'number';
  const width =
    numeric && edges
      ? histogram.reference.map((_, i) => edges[i + 1] - edges[i])
      : undefined;
  const trace = (name: string, values: number[], color: string): ITrace => ({
    type: 'bar',
    name,
    x: labels,
    y: values,
    width,
    opacity: 0.6,
    marker: { color },
    customdata: hover,
    hovertemplate: hover
      ? `%{customdata}: %{y:.1%}<extra>${name}</extra>`
      : `%{x}: %{y:.1%}<extra>${name}</extra>`
  });
  return (
    <figure
      className="jp-mlops-chart"
      data-chart="drift"
      data-column={column}
      data-scale={histogram.scale ?? ''}
    >
      <figcaption>{column}: reference and current</figcaption>
      {tails && below && above && (
        <p className="jp-mlops-drift-tails" data-testid="mlops-drift-tails">
          {histogram.scale === 'log'
            ? 'Log-spaced bins'
            : histogram.scale === 'quantile'
              ? 'Quantile bins'
              : 'Bins'}{' '}
          between the reference&apos;s 1st and 99th percentiles; outside:
          reference {formatShare(below.reference + above.reference)}, current{' '}
          {formatShare(below.current + above.current)}.
        </p>
      )}
      <Plot
        traces={[
          trace('reference', reference, 'var(--jp-ui-font-color2)'),
          trace('current', current, 'var(--jp-brand-color1)')
        ]}
        label={`Histograms of ${column}`}
        testid="mlops-plot-drift"
        layout={{
          barmode: 'overlay',
          bargap: numeric ? 0 : 0.15,
          xaxis: { type: numeric ? 'linear' : 'category' },
          yaxis: { title: { text: 'Share of rows' }, tickformat: '.0%' }
        }}
      />
    </figure>
  );
}

/**
 * A bin edge, short: 3 significant digits.
 */
function short(value: number): string {
  return String(Number(value.toPrecision(3)));
}
