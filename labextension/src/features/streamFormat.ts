/*
 * How a streamed view's ingest reads at a glance: its stream's name, its
 * state in words, and compact rate, lag and freshness.
 */
import { IStreamStatus } from './types';

/**
 * The state of a view's ingest, from its consumers:
 * - `running`: at least one consumer applies events;
 * - `waiting`: the live ones retry after the broker or a store failed;
 * - `starting`: the live ones are starting;
 * - `gone`: none is live and one stopped reporting (killed, or its host);
 * - `stopped`: every consumer stopped;
 * - `idle`: declared, no consumer ever ran.
 */
export type StreamHealth =
  'running' | 'waiting' | 'starting' | 'gone' | 'stopped' | 'idle';

/**
 * The state of a streamed view's ingest in words (never by colour alone).
 */
export interface IStreamSummary {
  health: StreamHealth;
  /**
   * A few words: `running`, `running · 2 consumers`, `waiting`...
   */
  label: string;
  /**
   * A sentence for the tooltip.
   */
  title: string;
}

export function streamSummary(stream: IStreamStatus): IStreamSummary {
  const { consumers } = stream;
  const live = consumers.filter(c =>
    ['running', 'waiting', 'starting'].includes(c.status)
  );
  const n = stream.consumers_running;
  const many = n > 1 ? ` · ${n} consumers` : '';
  if (live.some(c => c.status === 'running')) {
    return {
      health: 'running',
      label: `running${many}`,
      title: `${n} ${n === 1 ? 'consumer' : 'consumers'} running`
    };
  }
  if (live.some(c => c.status === 'waiting')) {
    return {
      health: 'waiting',
      label: `waiting${many}`,
      title: 'Waiting: the consumers retry after the broker or a store failed'
    };
  }
  if (live.length) {
    return { health: 'starting', label: 'starting', title: 'Starting' };
  }
  if (consumers.some(c => c.status === 'gone')) {
    return {
      health: 'gone',
      label: 'consumer gone',
      title: 'No consumer has reported for 30 s (killed, or its host is down)'
    };
  }
  if (consumers.length) {
    return {
      health: 'stopped',
      label: 'stopped',
      title: 'Every consumer stopped'
    };
  }
  return {
    health: 'idle',
    label: 'not started',
    title: `No consumer yet: run mlops-lab ingest ${stream.view}`
  };
}

/**
 * The stream's name and broker from its source URL
 * (`redis://…?stream=NAME`, `nats://…?subject=NAME`); the URL itself when
 * it names none.
 */
export function streamName(source: string): { name: string; broker: string } {
  try {
    const url = new URL(source);
    const broker = url.protocol.replace(/:$/, '');
    const name =
      url.searchParams.get('stream') ?? url.searchParams.get('subject');
    return { name: name || source, broker };
  } catch {
    return { name: source, broker: '' };
  }
}

/**
 * A count, compact: `0`, `950`, `12.3k`, `4.5M`; `–` when unknown.
 */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '–';
  }
  const abs = Math.abs(value);
  if (abs < 1000) {
    return String(Math.round(value));
  }
  const [scaled, unit] = abs < 1e6 ? [value / 1e3, 'k'] : [value / 1e6, 'M'];
  return `${Number(scaled.toFixed(Math.abs(scaled) < 100 ? 1 : 0))}${unit}`;
}

/**
 * Events per second: `0/s`, `2.5/s`, `250/s`, `52.1k/s`.
 */
export function formatRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) {
    return '–';
  }
  if (rate > 0 && rate < 10) {
    return `${Number(rate.toFixed(1))}/s`;
  }
  return `${formatCount(rate)}/s`;
}

/**
 * Publish to readable: `340 ms`, `1.2 s`, `3 min`; `–` when unknown.
 */
export function formatFreshness(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) {
    return '–';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  if (ms < 60_000) {
    return `${Number((ms / 1000).toFixed(1))} s`;
  }
  return `${Math.round(ms / 60_000)} min`;
}
