import { FeaturesModel } from '../src/features/model';
import { IFeaturesApi, IStreamStatus } from '../src/features/types';

function status(view: string, rate: number): IStreamStatus {
  return {
    view,
    declaration: null,
    source: 'redis://h:6379/0?stream=tx',
    consumers_running: 1,
    applied: 0,
    duplicates: 0,
    dead_letters: 0,
    rate,
    lag: 0,
    freshness_ms: null,
    last_event_at: null,
    last_error: null,
    last_error_at: null,
    consumers: []
  };
}

/**
 * A features API whose `listStreams` calls the test answers by hand.
 */
function fakeApi() {
  const pending: ((streams: IStreamStatus[]) => void)[] = [];
  const api = {
    listStreams: () =>
      new Promise<IStreamStatus[]>(resolve => pending.push(resolve))
  } as unknown as IFeaturesApi;
  return { api, pending };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
  }
}

describe('FeaturesModel streams', () => {
  it('keeps the newest answer when an older one comes last', async () => {
    const { api, pending } = fakeApi();
    const model = new FeaturesModel({ api, insertCode: async () => '' });
    const first = model.loadStreams();
    const second = model.loadStreams();
    pending[1]([status('spend', 2)]);
    await second;
    pending[0]([status('spend', 1)]);
    await first;
    expect(model.state.streams.loaded).toBe(true);
    expect(model.state.streams.items.map(s => s.rate)).toEqual([2]);
    model.dispose();
  });

  it('polls while started, one call at a time, and stops', async () => {
    jest.useFakeTimers();
    try {
      const { api, pending } = fakeApi();
      const model = new FeaturesModel({
        api,
        insertCode: async () => '',
        streamsInterval: 2000
      });
      model.startStreams();
      expect(pending).toHaveLength(0);
      jest.advanceTimersByTime(2000);
      expect(pending).toHaveLength(1);
      // The last poll is still in flight: no second call.
      jest.advanceTimersByTime(2000);
      expect(pending).toHaveLength(1);
      pending[0]([status('spend', 5)]);
      await settle();
      expect(model.state.streams.items[0].rate).toBe(5);
      jest.advanceTimersByTime(2000);
      expect(pending).toHaveLength(2);
      model.stopStreams();
      pending[1]([]);
      jest.advanceTimersByTime(10_000);
      expect(pending).toHaveLength(2);
      model.startStreams();
      model.dispose();
      jest.advanceTimersByTime(10_000);
      expect(pending).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
