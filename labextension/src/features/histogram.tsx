import * as React from 'react';

import { formatNumber } from '../format';
import { IHistogram } from './types';

/**
 * Height of the numeric histogram, in SVG units (and pixels).
 */
const HEIGHT = 36;

/**
 * Width of one bin in SVG units; the chart stretches to the panel width.
 */
const BIN_WIDTH = 10;

/**
 * Top values shown for a non-numeric feature.
 */
const MAX_LABELS = 8;

/**
 * The distribution of one feature: bars over the bins of a numeric
 * feature, or its top values with their counts.
 *
 * Plain SVG and HTML coloured by theme variables: no chart library, so it
 * costs nothing to draw one per feature and follows the light and dark
 * themes.
 */
export function Histogram(props: {
  histogram: IHistogram | null | undefined;
  feature: string;
}): JSX.Element | null {
  const { histogram, feature } = props;
  const counts = histogram?.counts ?? [];
  if (!histogram || !counts.some(c => c > 0)) {
    return (
      <p className="jp-mlops-histogram-empty" data-testid="mlops-histogram">
        No values to chart.
      </p>
    );
  }
  if (histogram.edges && histogram.edges.length === counts.length + 1) {
    return (
      <NumericHistogram
        edges={histogram.edges}
        counts={counts}
        feature={feature}
      />
    );
  }
  return (
    <TopValues
      labels={histogram.labels ?? []}
      counts={counts}
      feature={feature}
    />
  );
}

/**
 * Bins of a numeric feature as an SVG bar chart, its range underneath.
 */
function NumericHistogram(props: {
  edges: number[];
  counts: number[];
  feature: string;
}): JSX.Element {
  const { edges, counts, feature } = props;
  const most = Math.max(...counts);
  const total = counts.reduce((sum, c) => sum + c, 0);
  const width = counts.length * BIN_WIDTH;
  return (
    <figure
      className="jp-mlops-histogram"
      data-testid="mlops-histogram"
      data-kind="numeric"
      data-bins={counts.length}
    >
      <svg
        viewBox={`0 0 ${width} ${HEIGHT}`}
        preserveAspectRatio="none"
        height={HEIGHT}
        role="img"
        aria-label={
          `Histogram of ${feature}: ${total} values in ${counts.length} ` +
          `bins from ${formatNumber(edges[0])} to ` +
          formatNumber(edges[edges.length - 1])
        }
      >
        {counts.map((count, i) => {
          // Any non-empty bin stays visible next to a much fuller one.
          const height = count ? Math.max((count / most) * HEIGHT, 1.5) : 0;
          return (
            <g key={i} className="jp-mlops-histogram-bin">
              <title>
                {`[${formatNumber(edges[i])}, ${formatNumber(edges[i + 1])}` +
                  `${i === counts.length - 1 ? ']' : ')'}: ${count}`}
              </title>
              {/* A full-height hit area, so empty bins have a tooltip too. */}
              <rect
                className="jp-mlops-histogram-hit"
                x={i * BIN_WIDTH}
                y={0}
                width={BIN_WIDTH}
                height={HEIGHT}
              />
              <rect
                className="jp-mlops-histogram-bar"
                x={i * BIN_WIDTH + 1}
                y={HEIGHT - height}
                width={BIN_WIDTH - 2}
                height={height}
              />
            </g>
          );
        })}
        <line
          className="jp-mlops-histogram-axis"
          x1={0}
          x2={width}
          y1={HEIGHT - 0.5}
          y2={HEIGHT - 0.5}
          vectorEffect="non-scaling-stroke"
        />
      </svg>
      <figcaption className="jp-mlops-histogram-range">
        <span>{formatNumber(edges[0])}</span>
        <span>{formatNumber(edges[edges.length - 1])}</span>
      </figcaption>
    </figure>
  );
}

/**
 * The most frequent values of a non-numeric feature, as horizontal bars.
 */
function TopValues(props: {
  labels: string[];
  counts: number[];
  feature: string;
}): JSX.Element {
  const { labels, counts } = props;
  const rows = counts
    .map((count, i) => ({ label: labels[i] ?? '', count }))
    .slice(0, MAX_LABELS);
  const most = Math.max(...rows.map(r => r.count));
  return (
    <table
      className="jp-mlops-topvalues"
      data-testid="mlops-histogram"
      data-kind="categorical"
      data-bins={counts.length}
      aria-label={`Most frequent values of ${props.feature}`}
    >
      <tbody>
        {rows.map(row => (
          <tr key={row.label}>
            <th scope="row" title={row.label}>
              {row.label === '' ? <em>empty</em> : row.label}
            </th>
            <td className="jp-mlops-topvalues-bar">
              <span style={{ width: `${(row.count / most) * 100}%` }} />
            </td>
            <td className="jp-mlops-num">{row.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
