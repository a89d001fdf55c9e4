import { HTMLSelect } from '@jupyterlab/ui-components';
import type { ITrace } from 'plotly.js-basic-dist-min';
import * as React from 'react';

import { Plot } from '../evaluations/plot';
import { formatMetric, formatValue } from '../format';
import {
  IComparedMetric,
  IComparedParameter,
  IRunsComparison
} from './compareTypes';
import { IParallelAxis, axisOf, colourShare } from './parallelAxes';

/**
 * Parameters against a chosen metric across the compared runs: parallel
 * coordinates (3 runs or more; drawn as SVG, the basic plotly bundle has no
 * `parcoords`) or a plotly scatter of one parameter against the metric.
 */
export function ComparisonChart(props: {
  comparison: IRunsComparison;
}): JSX.Element {
  const { comparison } = props;
  const metrics = comparison.metrics;
  const varying = comparison.parameters.filter(p => p.differs);
  const [metricKey, setMetricKey] = React.useState(() =>
    keyOf(metrics.find(m => m.best !== null) ?? metrics[0])
  );
  const [paramKey, setParamKey] = React.useState(() =>
    keyOf(varying[0] ?? comparison.parameters[0])
  );
  const canParallel = comparison.runs.length >= 3;
  const [kind, setKind] = React.useState<'parallel' | 'scatter'>(
    canParallel ? 'parallel' : 'scatter'
  );
  const metric = metrics.find(m => keyOf(m) === metricKey) ?? metrics[0];
  const parameter =
    comparison.parameters.find(p => keyOf(p) === paramKey) ??
    comparison.parameters[0];
  const shown = canParallel ? kind : 'scatter';
  return (
    <section
      className="jp-mlops-compare-chart"
      data-testid="mlops-compare-chart"
      data-kind={shown}
      aria-label="Parameters against a metric"
    >
      <div className="jp-mlops-compare-chart-controls">
        <h5 className="jp-mlops-compare-title">Chart</h5>
        {canParallel && (
          <HTMLSelect
            aria-label="Chart"
            data-testid="mlops-compare-chart-kind"
            value={shown}
            onChange={event =>
              setKind(event.currentTarget.value as 'parallel' | 'scatter')
            }
            options={[
              { value: 'parallel', label: 'Parallel coordinates' },
              { value: 'scatter', label: 'Scatter' }
            ]}
          />
        )}
        {shown === 'scatter' && comparison.parameters.length > 0 && (
          <HTMLSelect
            aria-label="Parameter"
            data-testid="mlops-compare-chart-parameter"
            value={keyOf(parameter)}
            onChange={event => setParamKey(event.currentTarget.value)}
            options={comparison.parameters.map(p => ({
              value: keyOf(p),
              label: labelOf(p)
            }))}
          />
        )}
        {metrics.length > 0 && (
          <HTMLSelect
            aria-label="Metric"
            data-testid="mlops-compare-chart-metric"
            value={keyOf(metric)}
            onChange={event => setMetricKey(event.currentTarget.value)}
            options={metrics.map(m => ({
              value: keyOf(m),
              label: `${labelOf(m)} ${m.higher_is_better ? '↑' : '↓'}`
            }))}
          />
        )}
      </div>
      {!metric || comparison.parameters.length === 0 ? (
        <p
          className="jp-mlops-placeholder"
          data-testid="mlops-compare-no-chart"
        >
          {metric
            ? 'The runs have no parameters to plot against a metric.'
            : 'The runs logged no metrics to plot.'}
        </p>
      ) : shown === 'parallel' ? (
        <ParallelCoordinates
          comparison={comparison}
          parameters={varying.length > 0 ? varying : comparison.parameters}
          metric={metric}
        />
      ) : (
        parameter && (
          <Scatter
            comparison={comparison}
            parameter={parameter}
            metric={metric}
          />
        )
      )}
    </section>
  );
}

/**
 * The room between two axes, px: what the tab's width gives, within these.
 */
const AXIS_GAP = { min: 110, max: 260 };
const HEIGHT = 260;
const PAD = { top: 34, bottom: 28, left: 60, right: 60 };

/**
 * One vertical axis per parameter (the ones that differ) and the metric
 * last; one line per run, coloured from worse (red) to better (green) by
 * the metric's direction, the baseline dashed. A run missing a value
 * passes through the axis' "missing" mark at its foot.
 */
function ParallelCoordinates(props: {
  comparison: IRunsComparison;
  parameters: IComparedParameter[];
  metric: IComparedMetric;
}): JSX.Element {
  const { comparison, metric } = props;
  const parameters = props.parameters.slice(0, 12);
  const axes: IParallelAxis[] = [
    ...parameters.map(p => axisOf(labelOf(p), p.values, p.missing)),
    axisOf(
      labelOf(metric),
      metric.values,
      metric.missing,
      metric.higher_is_better
    )
  ];
  const frame = React.useRef<HTMLDivElement>(null);
  const room = useWidth(frame) - PAD.left - PAD.right;
  const gap = Math.min(
    AXIS_GAP.max,
    Math.max(AXIS_GAP.min, room / (axes.length - 1))
  );
  const width = PAD.left + PAD.right + (axes.length - 1) * gap;
  const inner = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + i * gap;
  const y = (share: number) => PAD.top + (1 - share) * inner;
  const [hovered, setHovered] = React.useState<string | null>(null);
  const order = comparison.runs
    .map((run, index) => ({ run, index }))
    .sort((a, b) => (a.index === 0 ? 1 : b.index === 0 ? -1 : 0));
  return (
    <div className="jp-mlops-parallel-frame" ref={frame}>
      <svg
        className="jp-mlops-parallel"
        data-testid="mlops-parallel"
        role="img"
        aria-label={`Parallel coordinates of ${comparison.runs.length} runs: ${axes.map(a => a.label).join(', ')}`}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        width={width}
        height={HEIGHT}
      >
        {order.map(({ run, index }) => {
          const points = axes.map(
            (axis, i) => `${x(i)},${y(axis.place(index))}`
          );
          const share = colourShare(metric, index);
          return (
            <polyline
              key={run.id}
              className="jp-mlops-parallel-line"
              data-testid="mlops-parallel-line"
              data-run-id={run.id}
              data-baseline={index === 0}
              data-hovered={hovered === run.id}
              points={points.join(' ')}
              style={{ stroke: lineColour(share) }}
              onMouseEnter={() => setHovered(run.id)}
              onMouseLeave={() => setHovered(null)}
            >
              <title>
                {`${run.id}${index === 0 ? ' (baseline)' : ''}: ` +
                  [...parameters, metric]
                    .map(
                      item =>
                        `${item.name} ${item.missing[index] ? 'missing' : item === metric ? formatMetric(metric.values[index]) : formatValue(item.values[index])}`
                    )
                    .join(', ')}
              </title>
            </polyline>
          );
        })}
        {axes.map((axis, i) => (
          <g
            key={axis.label}
            className="jp-mlops-parallel-axis"
            data-testid="mlops-parallel-axis"
            data-axis={axis.label}
            transform={`translate(${x(i)},0)`}
          >
            <line y1={PAD.top} y2={PAD.top + inner} />
            <text
              className="jp-mlops-parallel-label"
              y={PAD.top - 16}
              textAnchor="middle"
            >
              {axis.label}
              {i === axes.length - 1 && (metric.higher_is_better ? ' ↑' : ' ↓')}
            </text>
            {axis.ticks.map(tick => (
              <text
                key={tick.text}
                className="jp-mlops-parallel-tick"
                x={i === axes.length - 1 ? 6 : -6}
                y={y(tick.share) + 3}
                textAnchor={i === axes.length - 1 ? 'start' : 'end'}
              >
                {tick.text}
              </text>
            ))}
          </g>
        ))}
      </svg>
      <p className="jp-mlops-parallel-legend">
        Line colour: the {metric.name} from{' '}
        <span className="jp-mlops-parallel-worse">worse</span> to{' '}
        <span className="jp-mlops-parallel-better">better</span>
        {metric.higher_is_better ? ' (higher is better)' : ' (lower is better)'}
        ; the baseline dashed.
      </p>
    </div>
  );
}

/**
 * A theme colour between the error (0) and success (1) colours; grey when
 * the run has no value.
 */
function lineColour(share: number | null): string {
  if (share === null) {
    return 'var(--jp-ui-font-color3)';
  }
  const percent = Math.round(share * 100);
  if (percent === 100 || percent === 0) {
    return `var(--jp-${percent ? 'success' : 'error'}-color1)`;
  }
  return `color-mix(in srgb, var(--jp-success-color1) ${percent}%, var(--jp-error-color1))`;
}

/**
 * One parameter against the metric, one point per run (plotly, loaded
 * when first drawn), the baseline as a diamond.
 */
function Scatter(props: {
  comparison: IRunsComparison;
  parameter: IComparedParameter;
  metric: IComparedMetric;
}): JSX.Element {
  const { comparison, parameter, metric } = props;
  const shown = comparison.runs
    .map((run, i) => ({ run, i }))
    .filter(({ i }) => !parameter.missing[i] && !metric.missing[i]);
  const xOf = (i: number) => {
    const value = parameter.values[i];
    return typeof value === 'number' ? value : formatValue(value);
  };
  const trace = (baseline: boolean): ITrace => {
    const points = shown.filter(({ i }) => (i === 0) === baseline);
    return {
      type: 'scatter',
      mode: 'markers',
      name: baseline ? 'baseline' : 'runs',
      x: points.map(({ i }) => xOf(i)),
      y: points.map(({ i }) => metric.values[i]),
      text: points.map(({ run }) => run.id),
      hovertemplate: `%{text}<br>${parameter.name} %{x}<br>${metric.name} %{y}<extra></extra>`,
      marker: {
        size: baseline ? 12 : 9,
        symbol: baseline ? 'diamond' : 'circle',
        color: baseline ? 'var(--jp-warn-color1)' : 'var(--jp-brand-color1)'
      }
    };
  };
  return (
    <Plot
      traces={[trace(true), trace(false)]}
      layout={{
        xaxis: { title: { text: labelOf(parameter) } },
        yaxis: {
          title: {
            text: `${labelOf(metric)} (${metric.higher_is_better ? 'higher' : 'lower'} is better)`
          }
        },
        margin: { l: 56, r: 8, t: 24, b: 40 }
      }}
      height={HEIGHT}
      label={`${metric.name} against ${parameter.name} for ${shown.length} runs`}
      testid="mlops-compare-scatter"
    />
  );
}

function keyOf(item: { stage: string; name: string } | undefined): string {
  return item ? `${item.stage}\u0000${item.name}` : '';
}

function labelOf(item: { stage: string; name: string }): string {
  return item.stage ? `${item.stage}.${item.name}` : item.name;
}

/**
 * The width of an element, followed as it changes (0 while hidden).
 */
function useWidth(ref: React.RefObject<HTMLElement>): number {
  const [width, setWidth] = React.useState(0);
  React.useEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    setWidth(node.clientWidth);
    const observer = new ResizeObserver(() => setWidth(node.clientWidth));
    observer.observe(node);
    return () => observer.disconnect();
  }, []);
  return width;
}
