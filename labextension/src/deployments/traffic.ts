/**
 * What a deployment's metrics say, summed up for people: requests, the
 * share that failed and latency, in all and by variant.
 */

import { IDeployment, ILatency, IServedVariant } from './types';

/**
 * The variants in the order they are shown; other names follow.
 */
const ORDER = ['champion', 'challenger', 'none'];

/**
 * One variant's traffic.
 */
export interface IVariantTraffic {
  variant: string;
  /**
   * The version it serves; null for `none` (failed before routing).
   */
  served: IServedVariant | null;
  /**
   * HTTP status -> count, statuses in order.
   */
  byStatus: [string, number][];
  requests: number;
  errors: number;
  latency: ILatency | null;
}

/**
 * A deployment's traffic: totals and each variant.
 */
export interface ITraffic {
  requests: number;
  /**
   * Requests answered with a status other than 2xx.
   */
  errors: number;
  /**
   * `errors / requests`, null before any request.
   */
  errorRate: number | null;
  variants: IVariantTraffic[];
}

function isSuccess(status: string): boolean {
  return /^2\d\d$/.test(status);
}

function byVariant(a: string, b: string): number {
  const rank = (v: string) => {
    const at = ORDER.indexOf(v);
    return at < 0 ? ORDER.length : at;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * Sum up a live deployment's metrics; null when it does not answer.
 *
 * Variants it serves come first even before any request; `none`
 * (requests that failed before a variant was chosen) only when it has some.
 */
export function trafficOf(deployment: IDeployment): ITraffic | null {
  const { metrics, metadata } = deployment;
  if (!metrics || !metadata) {
    return null;
  }
  const names = new Set([
    ...Object.keys(metadata.served),
    ...Object.keys(metrics.requests)
  ]);
  const variants = [...names].sort(byVariant).map(variant => {
    const statuses = metrics.requests[variant] ?? {};
    const byStatus = Object.entries(statuses).sort(([a], [b]) =>
      a.localeCompare(b)
    );
    const requests = byStatus.reduce((sum, [, n]) => sum + n, 0);
    const errors = byStatus
      .filter(([status]) => !isSuccess(status))
      .reduce((sum, [, n]) => sum + n, 0);
    return {
      variant,
      served: metadata.served[variant] ?? null,
      byStatus,
      requests,
      errors,
      latency: metrics.latency[variant] ?? null
    };
  });
  const requests = variants.reduce((sum, v) => sum + v.requests, 0);
  const errors = variants.reduce((sum, v) => sum + v.errors, 0);
  return {
    requests,
    errors,
    errorRate: requests ? errors / requests : null,
    variants
  };
}

/**
 * The challenger's share now: the server's own when it answers, else the
 * last one recorded.
 */
export function currentSplit(deployment: IDeployment): number {
  return deployment.metadata?.split ?? deployment.split;
}

/**
 * A latency in milliseconds: `0.5 ms`, `12 ms`, `1.2 s`; `–` when unknown.
 */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '–';
  }
  if (ms >= 1000) {
    return `${Number((ms / 1000).toPrecision(2))} s`;
  }
  return `${Number(ms.toPrecision(2))} ms`;
}

/**
 * A unix time in seconds as an ISO string, for `formatAge`.
 */
export function unixToIso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
