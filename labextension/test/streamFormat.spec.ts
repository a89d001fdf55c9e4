import {
  formatCount,
  formatFreshness,
  formatRate,
  streamName,
  streamSummary
} from '../src/features/streamFormat';
import {
  IStreamConsumer,
  IStreamStatus,
  StreamConsumerStatus
} from '../src/features/types';

function consumer(status: StreamConsumerStatus): IStreamConsumer {
  return {
    view: 'spend',
    consumer: `c-${status}`,
    source: 'redis://h:6379/0?stream=tx',
    status,
    started_at: '2026-03-01T00:00:00+00:00',
    updated_at: '2026-03-01T00:00:00+00:00',
    seconds_since_update: 1
  };
}

function stream(...statuses: StreamConsumerStatus[]): IStreamStatus {
  const live = statuses.filter(s => ['running', 'waiting'].includes(s));
  return {
    view: 'spend',
    declaration: null,
    source: 'redis://h:6379/0?stream=tx',
    consumers_running: live.length,
    applied: 0,
    duplicates: 0,
    dead_letters: 0,
    rate: 0,
    lag: null,
    freshness_ms: null,
    last_event_at: null,
    last_error: null,
    last_error_at: null,
    consumers: statuses.map(consumer)
  };
}

describe('streamSummary', () => {
  it('says the state in words, the consumers counted when several', () => {
    expect(streamSummary(stream('running'))).toMatchObject({
      health: 'running',
      label: 'running',
      title: '1 consumer running'
    });
    expect(
      streamSummary(stream('running', 'running', 'stopped'))
    ).toMatchObject({ health: 'running', label: 'running · 2 consumers' });
    expect(streamSummary(stream('waiting')).health).toBe('waiting');
    expect(streamSummary(stream('waiting')).label).toBe('waiting');
    expect(streamSummary(stream('starting')).health).toBe('starting');
  });

  it('tells a killed consumer from a stopped one and from none', () => {
    expect(streamSummary(stream('gone', 'stopped'))).toMatchObject({
      health: 'gone',
      label: 'consumer gone'
    });
    expect(streamSummary(stream('stopped')).label).toBe('stopped');
    expect(streamSummary(stream())).toMatchObject({
      health: 'idle',
      label: 'not started',
      title: 'No consumer yet: run mlops-lab ingest spend'
    });
  });
});

describe('streamName', () => {
  it('reads the stream or subject and the broker from the URL', () => {
    expect(streamName('redis://127.0.0.1:6379/0?stream=transactions')).toEqual({
      name: 'transactions',
      broker: 'redis'
    });
    expect(streamName('nats://127.0.0.1:4222?subject=clicks')).toEqual({
      name: 'clicks',
      broker: 'nats'
    });
    expect(streamName('not a url')).toEqual({ name: 'not a url', broker: '' });
  });
});

describe('formatting', () => {
  it('counts compactly', () => {
    expect(formatCount(null)).toBe('–');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(950)).toBe('950');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(250_000)).toBe('250k');
    expect(formatCount(4_500_000)).toBe('4.5M');
  });

  it('gives rates per second', () => {
    expect(formatRate(0)).toBe('0/s');
    expect(formatRate(2.54)).toBe('2.5/s');
    expect(formatRate(250.5)).toBe('251/s');
    expect(formatRate(52_100)).toBe('52.1k/s');
    expect(formatRate(undefined)).toBe('–');
  });

  it('gives freshness in ms, s or min', () => {
    expect(formatFreshness(null)).toBe('–');
    expect(formatFreshness(340.2)).toBe('340 ms');
    expect(formatFreshness(1234)).toBe('1.2 s');
    expect(formatFreshness(180_000)).toBe('3 min');
  });
});
