import {
  byMetric,
  formatAge,
  formatBytes,
  formatDelta,
  formatDuration,
  formatMetric,
  formatRelativeChange,
  formatShare,
  formatTtl,
  stripAnsi
} from '../src/format';

describe('formatBytes', () => {
  it('steps units at 1024 with one decimal below 10', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12 * 1024 * 1024)).toBe('12 MiB');
  });

  it('refuses what is not a size', () => {
    expect(formatBytes(-1)).toBe('–');
    expect(formatBytes(Number.NaN)).toBe('–');
  });
});

describe('formatDuration', () => {
  it('reads seconds, minutes and hours', () => {
    expect(formatDuration(0.42)).toBe('0.4 s');
    expect(formatDuration(12.4)).toBe('12 s');
    expect(formatDuration(185)).toBe('3 m 05 s');
    expect(formatDuration(2 * 3600 + 7 * 60 + 20)).toBe('2 h 07 m');
  });

  it('shows a dash when unknown', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(undefined)).toBe('–');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('–');
  });
});

describe('formatMetric and formatDelta', () => {
  it('keeps four significant digits and switches to exponents at the extremes', () => {
    expect(formatMetric(0.852345)).toBe('0.8523');
    expect(formatMetric(12.3456)).toBe('12.35');
    expect(formatMetric(0)).toBe('0');
    expect(formatMetric(2_500_000)).toBe('2.50e+6');
    expect(formatMetric(0.00001)).toBe('1.00e-5');
    expect(formatMetric(null)).toBe('–');
  });

  it('signs a change with a real minus sign', () => {
    expect(formatDelta(4)).toBe('+4');
    expect(formatDelta(-0.03125)).toBe('−0.03125');
    expect(formatDelta(0)).toBe('0');
    expect(formatDelta(Number.NaN)).toBe('–');
  });

  it('says a relative change only when it has a start', () => {
    expect(formatRelativeChange(0.038, 1)).toBe('+3.8%');
    expect(formatRelativeChange(-5, 10)).toBe('−50%');
    expect(formatRelativeChange(1, 0)).toBe('');
    expect(formatRelativeChange(null, 1)).toBe('');
  });
});

describe('formatAge', () => {
  const now = new Date('2026-12-01T12:00:00Z');

  it('counts minutes, hours and days back', () => {
    expect(formatAge('2026-12-01T11:59:30Z', now)).toBe('just now');
    expect(formatAge('2026-12-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatAge('2026-12-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAge('2026-11-19T12:00:00Z', now)).toBe('12 d ago');
  });

  it('falls back to the date when far away or in the future', () => {
    const old = '2026-01-01T12:00:00Z';
    expect(formatAge(old, now)).toBe(new Date(old).toLocaleDateString());
    const future = '2026-12-02T12:00:00Z';
    expect(formatAge(future, now)).toBe(new Date(future).toLocaleDateString());
  });

  it('passes through what it cannot parse', () => {
    expect(formatAge(null, now)).toBe('–');
    expect(formatAge('yesterday', now)).toBe('yesterday');
  });
});

describe('formatTtl and formatShare', () => {
  it('keeps the two largest units of a time to live', () => {
    expect(formatTtl(30)).toBe('30 s');
    expect(formatTtl(15 * 60)).toBe('15 min');
    expect(formatTtl(36 * 3600)).toBe('1 d 12 h');
    expect(formatTtl(3601)).toBe('1 h');
    expect(formatTtl(0)).toBe('none');
    expect(formatTtl(null)).toBe('none');
  });

  it('keeps small shares apart from 0% and 100%', () => {
    expect(formatShare(0)).toBe('0%');
    expect(formatShare(0.004)).toBe('0.4%');
    expect(formatShare(0.12)).toBe('12%');
    expect(formatShare(0.997)).toBe('99.7%');
    expect(formatShare(1)).toBe('100%');
    expect(formatShare(undefined)).toBe('–');
  });
});

describe('stripAnsi', () => {
  it('removes colours and terminal titles, keeping the text', () => {
    expect(stripAnsi('\u001b[31mValueError\u001b[0m: bad')).toBe(
      'ValueError: bad'
    );
    expect(stripAnsi('\u001b]0;title\u0007done')).toBe('done');
  });
});

describe('byMetric', () => {
  it('puts the usual headline metrics first, then the rest by name', () => {
    const names = ['zeta', 'rmse', 'accuracy', 'alpha', 'roc_auc'];
    expect([...names].sort(byMetric)).toEqual([
      'roc_auc',
      'accuracy',
      'rmse',
      'alpha',
      'zeta'
    ]);
  });
});
