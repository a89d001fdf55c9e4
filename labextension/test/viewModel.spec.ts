import { MlopsApiError } from '../src/request';
import { IPage, pageLimit, toggled, unique, ViewModel } from '../src/viewModel';

interface IItem {
  id: string;
  n: number;
}

interface IDetail {
  id: string;
  text: string;
}

/**
 * A call the test answers by hand, in any order.
 */
interface ICall<T> {
  args: unknown[];
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

function calls<T>() {
  const made: ICall<T>[] = [];
  const call = (...args: unknown[]) =>
    new Promise<T>((resolve, reject) => made.push({ args, resolve, reject }));
  return { made, call };
}

/**
 * The smallest view model: a list of items and their detail, a query.
 */
class TestModel extends ViewModel<IItem, IDetail, string, { query: string }> {
  constructor(options: ViewModel.IOptions = {}) {
    super({ query: '' }, { pageSize: 2, ...options });
  }
  pages = calls<IPage<IItem>>();
  details = calls<IDetail>();
  setQuery(query: string, debounce: boolean): void {
    this.search({ query }, debounce);
  }
  run<T>(key: string, action: () => Promise<T>): Promise<T | null> {
    return this.act(key, `${key} failed`, action);
  }
  protected fetchPage(query: { offset: number; limit: number }) {
    return this.pages.call(query, this.state.query);
  }
  protected fetchDetail(key: string) {
    return this.details.call(key);
  }
  protected itemKey(item: IItem): string {
    return item.id;
  }
  protected known(key: string): IDetail | null {
    const item = this.state.items.find(i => i.id === key);
    return item ? { id: item.id, text: 'from the list' } : null;
  }
}

const item = (id: string, n = 0): IItem => ({ id, n });
const page = (items: IItem[], total = items.length) => ({ items, total });
const apiError = (message: string) =>
  new MlopsApiError({ status: 500, code: 'Boom', message, details: {} });
const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('ViewModel', () => {
  it('keeps the answer to the newest list load only', async () => {
    const model = new TestModel();
    const first = model.refresh();
    const second = model.refresh();
    model.pages.made[1].resolve(page([item('new')]));
    await flush();
    model.pages.made[0].resolve(page([item('old')]));
    await Promise.all([first, second]);
    expect(model.state.items.map(i => i.id)).toEqual(['new']);
    expect(model.state.loading).toBe(false);
    model.dispose();
  });

  it('drops a stale failure after a newer success', async () => {
    const model = new TestModel();
    const first = model.refresh();
    const second = model.refresh();
    model.pages.made[1].resolve(page([item('a')]));
    model.pages.made[0].reject(apiError('too late'));
    await Promise.all([first, second]);
    expect(model.state.error).toBeNull();
    expect(model.state.items).toHaveLength(1);
    model.dispose();
  });

  it('goes loading, then loaded; a failure keeps the last good list', async () => {
    const model = new TestModel();
    const seen: [boolean, boolean][] = [];
    model.changed.connect((_, s) => seen.push([s.loading, s.loaded]));
    const load = model.refresh();
    expect(model.state.loading).toBe(true);
    expect(model.state.loaded).toBe(false);
    model.pages.made[0].resolve(page([item('a')], 5));
    await load;
    expect(model.state).toMatchObject({ loading: false, loaded: true });
    expect(model.state.total).toBe(5);
    const again = model.refresh();
    model.pages.made[1].reject(apiError('down'));
    await again;
    expect(model.state.loading).toBe(false);
    expect(model.state.error?.message).toBe('down');
    expect(model.state.items.map(i => i.id)).toEqual(['a']);
    expect(seen[0]).toEqual([true, false]);
    model.dispose();
  });

  it('loads more from the end and reloads as many as are shown', async () => {
    const model = new TestModel();
    const load = model.refresh();
    model.pages.made[0].resolve(page([item('a'), item('b')], 4));
    await load;
    const more = model.loadMore();
    expect(model.pages.made[1].args[0]).toEqual({ offset: 2, limit: 2 });
    // Pages that overlap (an item was added meanwhile) are not repeated.
    model.pages.made[1].resolve(page([item('b'), item('c')], 4));
    await more;
    expect(model.state.items.map(i => i.id)).toEqual(['a', 'b', 'c']);
    void model.refresh();
    expect(model.pages.made[2].args[0]).toEqual({ offset: 0, limit: 3 });
    model.dispose();
  });

  it('searches from the first page, at once or once typing pauses', async () => {
    const model = new TestModel({ searchDelay: 20 });
    model.setQuery('a', true);
    model.setQuery('ab', true);
    expect(model.state.query).toBe('ab');
    expect(model.pages.made).toHaveLength(0);
    await new Promise(resolve => setTimeout(resolve, 40));
    expect(model.pages.made).toHaveLength(1);
    expect(model.pages.made[0].args).toEqual([{ offset: 0, limit: 2 }, 'ab']);
    model.setQuery('x', false);
    expect(model.pages.made).toHaveLength(2);
    model.dispose();
  });

  it('selects an item, showing the list item until its detail comes', async () => {
    const model = new TestModel();
    const load = model.refresh();
    model.pages.made[0].resolve(page([item('a')]));
    await load;
    const select = model.select('a');
    expect(model.state.selected).toBe('a');
    expect(model.state.detail?.text).toBe('from the list');
    expect(model.state.detailLoading).toBe(true);
    model.details.made[0].resolve({ id: 'a', text: 'full' });
    await select;
    expect(model.state.detail?.text).toBe('full');
    expect(model.state.detailLoading).toBe(false);
    model.dispose();
  });

  it('keeps the detail shown while the same item reloads', async () => {
    const model = new TestModel();
    const select = model.select('a');
    model.details.made[0].resolve({ id: 'a', text: 'one' });
    await select;
    const refresh = model.refresh();
    expect(model.state.selected).toBe('a');
    expect(model.state.detail?.text).toBe('one');
    model.details.made[1].reject(apiError('gone'));
    model.pages.made[0].resolve(page([]));
    await refresh;
    // The selection and what was shown stay; the failure is told.
    expect(model.state.selected).toBe('a');
    expect(model.state.detail?.text).toBe('one');
    expect(model.state.detailError?.message).toBe('gone');
    model.dispose();
  });

  it('drops the detail of an item no longer selected', async () => {
    const model = new TestModel();
    const a = model.select('a');
    const b = model.select('b');
    model.details.made[1].resolve({ id: 'b', text: 'b' });
    model.details.made[0].resolve({ id: 'a', text: 'a' });
    await Promise.all([a, b]);
    expect(model.state.detail?.id).toBe('b');
    const back = model.deselect();
    await back;
    expect(model.state.selected).toBeNull();
    expect(model.state.detail).toBeNull();
    expect(model.state.detailLoading).toBe(false);
    model.dispose();
  });

  it('clears the selection with deselect, even while its detail loads', async () => {
    const model = new TestModel();
    const select = model.select('a');
    await model.deselect();
    model.details.made[0].resolve({ id: 'a', text: 'late' });
    await select;
    expect(model.state.selected).toBeNull();
    expect(model.state.detail).toBeNull();
    model.dispose();
  });

  it('marks an action pending, once at a time, and keeps its failure', async () => {
    const model = new TestModel();
    let finish: (v: string) => void = () => undefined;
    const first = model.run(
      'save',
      () => new Promise<string>(resolve => (finish = resolve))
    );
    expect(model.state.pending.has('save')).toBe(true);
    expect(await model.run('save', async () => 'twice')).toBeNull();
    finish('done');
    expect(await first).toBe('done');
    expect(model.state.pending.size).toBe(0);
    const failed = await model.run('save', async () => {
      throw apiError('refused');
    });
    expect(failed).toBeNull();
    expect(model.state.actionError?.title).toBe('save failed');
    expect(model.state.actionError?.error.message).toBe('refused');
    expect(model.state.pending.size).toBe(0);
    model.dismiss();
    expect(model.state.actionError).toBeNull();
    model.dispose();
  });

  it('tells nothing once disposed', async () => {
    const model = new TestModel();
    let told = 0;
    model.changed.connect(() => told++);
    const load = model.refresh();
    const before = told;
    model.dispose();
    model.pages.made[0].resolve(page([item('a')]));
    await load;
    expect(told).toBe(before);
    expect(model.isDisposed).toBe(true);
  });
});

describe('paging helpers', () => {
  it('asks for a page, or as many as are shown on reload (at most 1000)', () => {
    expect(pageLimit('first', 120, 50)).toBe(50);
    expect(pageLimit('more', 120, 50)).toBe(50);
    expect(pageLimit('reload', 10, 50)).toBe(50);
    expect(pageLimit('reload', 120, 50)).toBe(120);
    expect(pageLimit('poll', 5000, 50)).toBe(1000);
  });

  it('keeps the first of repeated items', () => {
    expect(unique([item('a', 1), item('b'), item('a', 2)], i => i.id)).toEqual([
      item('a', 1),
      item('b')
    ]);
  });

  it('toggles a key in a copy of a set', () => {
    const set = new Set(['a']);
    expect([...toggled(set, 'b', true)]).toEqual(['a', 'b']);
    expect([...toggled(set, 'a', false)]).toEqual([]);
    expect([...set]).toEqual(['a']);
  });
});
