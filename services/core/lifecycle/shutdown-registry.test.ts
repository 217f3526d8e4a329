import { ShutdownRegistry } from './shutdown-registry';

describe('ShutdownRegistry', () => {
  it('runs steps once, in order, and keeps going after a failing step', async () => {
    const order: string[] = [];
    const errors: string[] = [];
    const reg = new ShutdownRegistry({ forceAfterMs: 5000, onStepError: (name) => errors.push(name), exit: () => undefined });
    reg.add('intake', () => { order.push('intake'); });
    reg.add('drain', async () => { order.push('drain'); throw new Error('stuck'); });
    reg.add('pool', () => { order.push('pool'); });
    const [a, b] = await Promise.all([reg.run(), reg.run()]);
    expect(order).toEqual(['intake', 'drain', 'pool']);
    expect(errors).toEqual(['drain']);
    expect(a).toBe(false);
    expect(b).toBe(false);
  });

  it('forces an exit when a step hangs past the timer', async () => {
    const exits: number[] = [];
    const reg = new ShutdownRegistry({ forceAfterMs: 50, exit: (code) => exits.push(code) });
    reg.add('hang', () => new Promise<void>((resolve) => setTimeout(resolve, 200)));
    await reg.run();
    expect(exits).toEqual([1]);
  });
});
