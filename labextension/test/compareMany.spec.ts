import {
  comparisonLabel,
  comparisonSetKey,
  IComparedMetric,
  runList
} from '../src/runs/compareTypes';
import { axisOf, colourShare, MISSING_SHARE } from '../src/runs/parallelAxes';

describe('comparisonLabel', () => {
  it('names up to three runs, then counts the rest', () => {
    expect(comparisonLabel(['r1', 'r2'])).toBe('compare r1 · r2');
    expect(comparisonLabel(['r1', 'r2', 'r3'])).toBe('compare r1 · r2 · r3');
    expect(comparisonLabel(['r1', 'r2', 'r3', 'r4', 'r5'])).toBe(
      'compare r1 · r2 · +3'
    );
  });
});

describe('runList and comparisonSetKey', () => {
  it('reads runs as a comma list, or as a and b', () => {
    expect(runList('r1, r2,,r3')).toEqual(['r1', 'r2', 'r3']);
    expect(runList(null, 'a', 'b')).toEqual(['a', 'b']);
    expect(runList(null, 'a', null)).toEqual([]);
  });

  it('keys a set of runs whatever their order', () => {
    expect(comparisonSetKey(['r2', 'r1', 'r3'])).toBe('r1,r2,r3');
    expect(comparisonSetKey(['r3', 'r1', 'r2'])).toBe('r1,r2,r3');
  });
});

describe('axisOf', () => {
  it('spreads numbers from min to max, a missing value below the axis', () => {
    const axis = axisOf('lr', [1, 3, null, 2], [false, false, true, false]);
    expect([0, 1, 2, 3].map(axis.place)).toEqual([0, 1, MISSING_SHARE, 0.5]);
    expect(axis.ticks.map(t => t.text)).toEqual(['missing', '1', '3']);
  });

  it('places text values evenly in sorted order, one value mid-axis', () => {
    const axis = axisOf('opt', ['sgd', 'adam', 'sgd'], [false, false, false]);
    expect([0, 1, 2].map(axis.place)).toEqual([1, 0, 1]);
    expect(axis.ticks.map(t => t.text)).toEqual(['"adam"', '"sgd"']);
    const flat = axisOf('n', [3, 3], [false, false]);
    expect(flat.place(0)).toBe(0.5);
  });
});

describe('colourShare', () => {
  const metric = (name: string, higher: boolean): IComparedMetric => ({
    stage: 'train',
    name,
    higher_is_better: higher,
    values: [5, 9, 7, null],
    missing: [false, false, false, true],
    deltas: [null, 4, 2, null],
    changes: [null, 'better', 'better', null],
    best: 1
  });

  it('scores 1 for the best run by the metric direction, null when missing', () => {
    const accuracy = metric('accuracy', true);
    expect([0, 1, 2, 3].map(i => colourShare(accuracy, i))).toEqual([
      0,
      1,
      0.5,
      null
    ]);
    const loss = metric('loss', false);
    expect(colourShare(loss, 0)).toBe(1);
    expect(colourShare(loss, 1)).toBe(0);
  });
});
