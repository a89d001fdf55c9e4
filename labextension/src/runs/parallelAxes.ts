import { formatMetric, formatValue } from '../format';
import { IComparedMetric } from './compareTypes';

/**
 * Where a run's missing value sits: just below the axis.
 */
export const MISSING_SHARE = -0.1;

/**
 * An axis of the parallel coordinates: where each run's value sits, from 0
 * (foot) to 1 (top), and the labelled ticks.
 */
export interface IParallelAxis {
  label: string;
  place: (run: number) => number;
  ticks: { text: string; share: number }[];
}

/**
 * A numeric axis (min to max) when every value is a number, else a
 * categorical one (the distinct values, evenly spaced, in sorted order).
 */
export function axisOf(
  label: string,
  values: readonly unknown[],
  missing: readonly boolean[],
  metric = false
): IParallelAxis {
  const present = values.filter((_, i) => !missing[i]);
  const ticks: IParallelAxis['ticks'] = [];
  if (missing.some(Boolean)) {
    ticks.push({ text: 'missing', share: MISSING_SHARE });
  }
  let place: (value: unknown) => number;
  if (present.length > 0 && present.every(v => typeof v === 'number')) {
    const numbers = present as number[];
    const [low, high] = [Math.min(...numbers), Math.max(...numbers)];
    const format = metric ? formatMetric : (v: number) => formatValue(v);
    place = value =>
      high === low ? 0.5 : ((value as number) - low) / (high - low);
    if (high === low) {
      ticks.push({ text: format(low), share: 0.5 });
    } else {
      ticks.push(
        { text: format(low), share: 0 },
        { text: format(high), share: 1 }
      );
    }
  } else {
    const names = [...new Set(present.map(v => formatValue(v)))].sort();
    const share = (name: string) =>
      names.length === 1 ? 0.5 : names.indexOf(name) / (names.length - 1);
    place = value => share(formatValue(value));
    ticks.push(...names.map(name => ({ text: name, share: share(name) })));
  }
  return {
    label,
    place: run => (missing[run] ? MISSING_SHARE : place(values[run])),
    ticks
  };
}

/**
 * How good a run's value of the metric is among the runs, from 0 (worst) to
 * 1 (best) by the metric's direction; null when the run has none, 0.5 when
 * all are equal.
 */
export function colourShare(
  metric: IComparedMetric,
  run: number
): number | null {
  const value = metric.values[run];
  if (metric.missing[run] || value === null) {
    return null;
  }
  const present = metric.values.filter(
    (v, i): v is number => v !== null && !metric.missing[i]
  );
  const [low, high] = [Math.min(...present), Math.max(...present)];
  if (high === low) {
    return 0.5;
  }
  const share = (value - low) / (high - low);
  return metric.higher_is_better ? share : 1 - share;
}
