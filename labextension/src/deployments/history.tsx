import type { Datum, ITrace } from 'plotly.js-basic-dist-min';
import * as React from 'react';

import { ErrorNotice } from '../components';
import { Plot } from '../evaluations/plot';
import { MlopsApiError } from '../request';
import { byVariant, variantLabel } from './traffic';
import { IDeploymentHistory } from './types';

/**
 * Each variant's colour in the charts (theme variables, read when drawn).
 */
const COLORS: Record<string, string> = {
  champion: 'var(--jp-brand-color1)',
  challenger: 'var(--jp-warn-color1)',
  none: 'var(--jp-ui-font-color2)'
};

/**
 * One variant's series, a value per bucket: rates per second, latency
 * quantiles (null where it answered nothing: a gap, not a zero).
 */
export interface IVariantSeries {
  variant: string;
  requests: number[];
  clientErrors: number[];
  serverErrors: number[];
  p50: (number | null)[];
  p99: (number | null)[];
  total: { requests: number; clientErrors: number; serverErrors: number };
}

/**
 * A history as chart series: the buckets' local times and each variant
 * that answered anything in it, in the usual order.
 */
export function historySeries(history: IDeploymentHistory): {
  times: string[];
  variants: IVariantSeries[];
} {
  const { buckets } = history;
  const names = new Set<string>();
  for (const bucket of buckets) {
    Object.keys(bucket.variants).forEach(name => names.add(name));
  }
  const variants = [...names].sort(byVariant).map(variant => {
    const series: IVariantSeries = {
      variant,
      requests: [],
      clientErrors: [],
      serverErrors: [],
      p50: [],
      p99: [],
      total: { requests: 0, clientErrors: 0, serverErrors: 0 }
    };
    for (const bucket of buckets) {
      // A bucket just begun covers little time: at least a second, so one
      // request is not a spike.
      const seconds = Math.max(bucket.seconds, 1);
      const counts = bucket.variants[variant];
      series.requests.push((counts?.requests ?? 0) / seconds);
      series.clientErrors.push((counts?.client_errors ?? 0) / seconds);
      series.serverErrors.push((counts?.server_errors ?? 0) / seconds);
      series.p50.push(counts?.requests ? counts.p50_ms : null);
      series.p99.push(counts?.requests ? counts.p99_ms : null);
      series.total.requests += counts?.requests ?? 0;
      series.total.clientErrors += counts?.client_errors ?? 0;
      series.total.serverErrors += counts?.server_errors ?? 0;
    }
    return series;
  });
  return { times: buckets.map(b => localTime(b.start)), variants };
}

/**
 * Unix seconds as plotly reads a date: local time, no zone.
 */
function localTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}

function line(
  series: IVariantSeries,
  times: string[],
  y: Datum[],
  what: string,
  dash: 'solid' | 'dash' | 'dot',
  unit: string
): ITrace {
  const name = `${variantLabel(series.variant)} ${what}`;
  return {
    type: 'scatter',
    mode: 'lines+markers',
    name,
    x: times,
    y,
    connectgaps: false,
    line: {
      color: COLORS[series.variant] ?? 'var(--jp-info-color1)',
      width: 1.5,
      dash
    },
    marker: { size: 3 },
    hovertemplate: `${name}: %{y:.3~g} ${unit}<extra>%{x|%H:%M:%S}</extra>`
  };
}

const HEIGHT = 120;

function layout(unit: string): Record<string, unknown> {
  return {
    showlegend: false,
    margin: { l: 36, r: 6, t: 4, b: 24 },
    xaxis: { type: 'date', tickformat: '%H:%M:%S', tickangle: 0, nticks: 3 },
    yaxis: { rangemode: 'tozero', nticks: 4, title: { text: unit } }
  };
}

/**
 * The deployment's traffic over the last hour: requests/s, p50 and p99
 * latency, and 5xx and 4xx per second, per variant (one colour each).
 */
export function TrafficHistory(props: {
  history: IDeploymentHistory | null;
  error: MlopsApiError | null;
}): JSX.Element {
  const { history, error } = props;
  const shaped = history ? historySeries(history) : null;
  const answered = shaped?.variants.some(v => v.total.requests > 0) ?? false;
  const anyErrors =
    shaped?.variants.some(
      v => v.total.clientErrors > 0 || v.total.serverErrors > 0
    ) ?? false;
  return (
    <section
      className="jp-mlops-dp-section jp-mlops-dp-history-charts"
      aria-label="Traffic over time"
      data-testid="mlops-deployment-history"
      data-buckets={history?.buckets.length ?? 0}
    >
      <h4 className="jp-mlops-dp-section-title">
        Over time
        {history && (
          <span className="jp-mlops-meta">
            per {history.bucket_seconds} s, the last hour
          </span>
        )}
      </h4>
      {error && (
        <ErrorNotice
          error={error}
          title="The traffic history could not be loaded"
          testid="mlops-deployment-history-error"
        />
      )}
      {!error && !history && <p className="jp-mlops-placeholder">Loading…</p>}
      {shaped && !answered && (
        <p
          className="jp-mlops-placeholder"
          data-testid="mlops-deployment-history-empty"
        >
          No requests since the server started (or in the last hour).
        </p>
      )}
      {shaped && answered && (
        <>
          <Key variants={shaped.variants.map(v => v.variant)} />
          <ChartTitle>Requests per second</ChartTitle>
          <Plot
            label="Requests per second by variant over time"
            testid="mlops-history-requests"
            height={HEIGHT}
            layout={layout('req/s')}
            traces={shaped.variants.map(v =>
              line(v, shaped.times, v.requests, 'requests', 'solid', 'req/s')
            )}
          />
          <ChartTitle>
            Latency: p50 <LineSample dash="solid" />, p99{' '}
            <LineSample dash="dash" />
          </ChartTitle>
          <Plot
            label="p50 and p99 latency by variant over time"
            testid="mlops-history-latency"
            height={HEIGHT}
            layout={layout('ms')}
            traces={shaped.variants.flatMap(v => [
              line(v, shaped.times, v.p50, 'p50', 'solid', 'ms'),
              line(v, shaped.times, v.p99, 'p99', 'dash', 'ms')
            ])}
          />
          <ChartTitle>
            Errors per second: 5xx <LineSample dash="solid" /> (the server's,
            the error rate), 4xx <LineSample dash="dot" /> (the client's)
          </ChartTitle>
          {anyErrors ? (
            <Plot
              label="5xx and 4xx answers per second by variant over time"
              testid="mlops-history-errors"
              height={HEIGHT}
              layout={layout('/s')}
              traces={shaped.variants.flatMap(v => [
                line(v, shaped.times, v.serverErrors, '5xx', 'solid', '/s'),
                line(v, shaped.times, v.clientErrors, '4xx', 'dot', '/s')
              ])}
            />
          ) : (
            <p
              className="jp-mlops-placeholder"
              data-testid="mlops-history-no-errors"
            >
              No 5xx or 4xx answers in this time.
            </p>
          )}
        </>
      )}
    </section>
  );
}

function ChartTitle(props: { children: React.ReactNode }): JSX.Element {
  return <p className="jp-mlops-dp-chart-title">{props.children}</p>;
}

/**
 * The colour of each variant, as the charts draw them.
 */
function Key(props: { variants: string[] }): JSX.Element {
  return (
    <p className="jp-mlops-dp-chart-key" data-testid="mlops-history-key">
      {props.variants.map(variant => (
        <span key={variant} data-variant={variant}>
          <span
            className="jp-mlops-dp-swatch"
            style={{ background: COLORS[variant] ?? 'var(--jp-info-color1)' }}
            aria-hidden="true"
          />
          {variantLabel(variant)}
        </span>
      ))}
    </p>
  );
}

/**
 * A short line drawn as the charts draw it (solid, dashed or dotted).
 */
function LineSample(props: { dash: 'solid' | 'dash' | 'dot' }): JSX.Element {
  return (
    <span
      className="jp-mlops-dp-line-sample"
      data-dash={props.dash}
      aria-hidden="true"
    />
  );
}
