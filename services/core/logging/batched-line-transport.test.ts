import { createLogger } from './create-logger';
import { BatchedLineTransport } from './batched-line-transport';
import winston from 'winston';

function loggerWith(writes: string[]): { logger: winston.Logger; transport: BatchedLineTransport } {
  const transport = new BatchedLineTransport({ write: (text) => writes.push(text) });
  const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [transport] });
  return { logger, transport };
}

describe('BatchedLineTransport', () => {
  it('writes the lines of one event-loop turn in one write, in order', async () => {
    const writes: string[] = [];
    const { logger } = loggerWith(writes);
    logger.info('one');
    logger.info('two');
    logger.warn('three');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['one', 'two', 'three']);
    logger.info('four');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(2);
  });

  it('writes what is pending when the logger ends, before it reports finished', async () => {
    const writes: string[] = [];
    const { logger } = loggerWith(writes);
    logger.info('last words');
    await new Promise<void>((resolve) => {
      logger.once('finish', () => resolve());
      logger.end();
    });
    expect(writes.join('')).toContain('last words');
  });

  it('is what the logger factory writes stdout through', () => {
    const logger = createLogger({ service: 'test', level: 'info' });
    expect(logger.transports.some((t) => t instanceof BatchedLineTransport)).toBe(true);
    logger.close();
  });
});
