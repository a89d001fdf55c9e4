import { listPhase, scrollTarget } from '../src/viewState';

const list = (loading: boolean, loaded: boolean, n: number) => ({
  loading,
  loaded,
  items: Array.from({ length: n }, (_, i) => i)
});

describe('listPhase', () => {
  it('says Loading… only before the first load', () => {
    expect(listPhase(list(true, false, 0))).toEqual({
      busy: true,
      empty: false,
      list: false
    });
    // A reload keeps the list shown, without Loading….
    expect(listPhase(list(true, true, 3))).toEqual({
      busy: false,
      empty: false,
      list: true
    });
  });

  it('says the list is empty once loaded with nothing in it', () => {
    expect(listPhase(list(false, true, 0)).empty).toBe(true);
    expect(listPhase(list(false, false, 0)).empty).toBe(false);
    expect(listPhase(list(false, true, 2)).empty).toBe(false);
  });

  it('counts the rows shown when they are not one per item', () => {
    // e.g. only running deployments, or notebooks being checked too
    expect(listPhase(list(false, true, 4), 0)).toEqual({
      busy: false,
      empty: true,
      list: false
    });
    expect(listPhase(list(false, true, 0), 1).list).toBe(true);
  });
});

describe('scrollTarget', () => {
  it('goes to the top of an item and back to where the list was', () => {
    expect(scrollTarget('churn', 420)).toBe(0);
    expect(scrollTarget(null, 420)).toBe(420);
  });
});
