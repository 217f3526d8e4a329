import { backoffMs } from './backoff';

describe('backoffMs', () => {
  it('doubles per attempt between half and all of the exponential delay', () => {
    expect(backoffMs(1, 5, 900, () => 0)).toBe(2500);
    expect(backoffMs(1, 5, 900, () => 1)).toBe(5000);
    expect(backoffMs(3, 5, 900, () => 0)).toBe(10000);
    expect(backoffMs(3, 5, 900, () => 1)).toBe(20000);
  });

  it('never exceeds the maximum', () => {
    expect(backoffMs(30, 5, 900, () => 1)).toBe(900000);
    expect(backoffMs(30, 5, 900, () => 0)).toBe(450000);
  });

  it('spreads retries of products that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffMs(2, 5, 900)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
