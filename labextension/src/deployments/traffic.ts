/**
 * What a deployment's metrics say, summed up for people: requests, the
 * server's errors (5xx: the error rate) apart from the client's (4xx) and
 * latency, in all and by variant.
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
  /**
   * 5xx answers: the server failed.
   */
  serverErrors: number;
  /**
   * 4xx answers: the request was wrong (a bad body, an unknown entity).
   */
  clientErrors: number;
  latency: ILatency | null;
}

/**
 * A deployment's traffic: totals and each variant.
 */
export interface ITraffic {
  requests: number;
  serverErrors: number;
  clientErrors: number;
  /**
   * The error rate: `serverErrors / requests` (5xx only), null before any
   * request.
   */
  errorRate: number | null;
  /**
   * `clientErrors / requests` (4xx), shown beside the error rate; null
   * before any request.
   */
  clientErrorRate: number | null;
  variants: IVariantTraffic[];
}

/**
 * `4xx`, `5xx` or null (answered), as the server classes a status.
 */
export function statusClass(status: string): '4xx' | '5xx' | null {
  return /^4\d\d$/.test(status) ? '4xx' : /^5\d\d$/.test(status) ? '5xx' : null;
}

function countClass(byStatus: [string, number][], kind: '4xx' | '5xx'): number {
  return byStatus
    .filter(([status]) => statusClass(status) === kind)
    .reduce((sum, [, n]) => sum + n, 0);
}

/**
 * Orders variant names: champion, challenger, none, then the rest by name.
 */
export function byVariant(a: string, b: string): number {
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
 * (requests refused before a variant was chosen) only when it has some.
 * The errors are the server's own count (`metrics.errors`), or, from an
 * older server, counted from the statuses the same way.
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
    const counted = metrics.errors?.[variant];
    return {
      variant,
      served: metadata.served[variant] ?? null,
      byStatus,
      requests,
      serverErrors: counted?.server_errors ?? countClass(byStatus, '5xx'),
      clientErrors: counted?.client_errors ?? countClass(byStatus, '4xx'),
      latency: metrics.latency[variant] ?? null
    };
  });
  const sum = (pick: (v: IVariantTraffic) => number) =>
    variants.reduce((total, v) => total + pick(v), 0);
  const requests = sum(v => v.requests);
  const serverErrors = sum(v => v.serverErrors);
  const clientErrors = sum(v => v.clientErrors);
  return {
    requests,
    serverErrors,
    clientErrors,
    errorRate: requests ? serverErrors / requests : null,
    clientErrorRate: requests ? clientErrors / requests : null,
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

/**
 * How a variant is named for people: `none` is "before routing".
 */
export function variantLabel(variant: string): string {
  return variant === 'none' ? 'before routing' : variant;
}
