import { StatusModel, StatusState } from '../src/model';
import { IStatus } from '../src/tokens';

/**
 * A fetch the test answers by hand, in any order.
 */
function manualFetch() {
  const pending: {
    resolve: (s: IStatus) => void;
    reject: (e: unknown) => void;
  }[] = [];
  const fetchStatus = () =>
    new Promise<IStatus>((resolve, reject) => {
      pending.push({ resolve, reject });
    });
  return { fetchStatus, pending };
}

const status = (name: string) => ({ name }) as unknown as IStatus;

describe('StatusModel', () => {
  it('keeps the answer to the latest refresh only', async () => {
    const { fetchStatus, pending } = manualFetch();
    const model = new StatusModel({ fetchStatus });
    const phases: string[] = [];
    model.stateChanged.connect((_, s: StatusState) => phases.push(s.phase));
    const first = model.refresh();
    const second = model.refresh();
    pending[1].resolve(status('new'));
    await second;
    pending[0].resolve(status('old'));
    await first;
    expect(model.state.phase).toBe('ok');
    expect(model.state.status).toEqual(status('new'));
    expect(phases).toEqual(['loading', 'loading', 'ok']);
    model.dispose();
  });

  it('keeps the last good status while loading, and clears it on error', async () => {
    const { fetchStatus, pending } = manualFetch();
    const model = new StatusModel({ fetchStatus });
    const done = model.refresh();
    pending[0].resolve(status('good'));
    await done;
    const again = model.refresh();
    expect(model.state).toEqual({
      phase: 'loading',
      status: status('good'),
      error: null
    });
    pending[1].reject(new Error('server down'));
    await again;
    expect(model.state.phase).toBe('error');
    expect(model.state.status).toBeNull();
    expect(model.state.error?.message).toContain('server down');
    model.dispose();
  });

  it('says nothing once disposed', async () => {
    const { fetchStatus, pending } = manualFetch();
    const model = new StatusModel({ fetchStatus });
    let calls = 0;
    model.stateChanged.connect(() => calls++);
    const done = model.refresh();
    model.dispose();
    pending[0].resolve(status('late'));
    await done;
    expect(model.isDisposed).toBe(true);
    expect(calls).toBe(1);
  });
});
