import { describe, expect, it } from 'vitest';
import { isRunledgerError } from '../../src/errors.js';
import { parseDuration } from '../../src/store/duration.js';

describe('parseDuration', () => {
  it('reads s, m, h, d and bare seconds', () => {
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('45s')).toBe(45_000);
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('0s')).toBe(0);
  });

  it('refuses anything else with ARGUMENT_INVALID', () => {
    for (const bad of ['', '1.5h', '-1h', '24 hours', 'h', '1w']) {
      let caught: unknown;
      try {
        parseDuration(bad);
      } catch (e) {
        caught = e;
      }
      expect(isRunledgerError(caught, 'ARGUMENT_INVALID'), bad).toBe(true);
    }
  });
});
