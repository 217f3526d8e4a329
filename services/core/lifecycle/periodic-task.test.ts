import { PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs at start when asked, then once per interval, never two runs at once', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const task = new PeriodicTask({ everyMs: 100, runAtStart: true, run: () => new Promise<void>((r) => { runs++; release = r; }) });
    task.start();
    await Promise.resolve();
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(350); // three ticks while the first run is still in flight
    expect(runs).toBe(1);
    const joined = task.runNow();
    release();
    await joined;
    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    release();
    await task.stop();
    await jest.advanceTimersByTimeAsync(500);
    expect(runs).toBe(2);
  });

  it('skips a tick when shouldRun says there is nothing to do, and reports a failed run', async () => {
    const errors: unknown[] = [];
    let work = false;
    let runs = 0;
    const task = new PeriodicTask({
      everyMs: 100, shouldRun: () => work, onError: (err) => errors.push(err),
      run: async () => { runs++; throw new Error('boom'); },
    });
    task.start();
    await jest.advanceTimersByTimeAsync(250);
    expect(runs).toBe(0);
    work = true;
    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
    expect(errors).toEqual([new Error('boom')]);
    await task.stop();
  });

  it('waits for the run in flight when stopped', async () => {
    const order: string[] = [];
    const task = new PeriodicTask({ everyMs: 1000, runAtStart: true, run: async () => { await new Promise((r) => setTimeout(r, 50)); order.push('run'); } });
    task.start();
    const stopped = task.stop().then(() => order.push('stopped'));
    await jest.advanceTimersByTimeAsync(60);
    await stopped;
    expect(order).toEqual(['run', 'stopped']);
  });
});
