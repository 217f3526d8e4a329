import winston from 'winston';
import { BatchedLineTransport } from './batched-line-transport';
import { redact } from './redact';

export type Logger = winston.Logger;

/** Applies redaction to every field of an entry, keeping winston's symbol keys intact. */
const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    (info as Record<string, unknown>)[key] = redact((info as Record<string, unknown>)[key]);
  }
  return info;
});

/**
 * The one logger factory: JSON lines on stdout with timestamp, level and service, written once per
 * event-loop turn (BatchedLineTransport). Child loggers (logger.child({request_id})) add
 * per-request or per-job fields.
 */
export function createLogger(opts: { service: string; level: string; stream?: NodeJS.WritableStream }): Logger {
  const transport = opts.stream
    ? new winston.transports.Stream({ stream: opts.stream })
    : new BatchedLineTransport();
  return winston.createLogger({
    level: opts.level,
    defaultMeta: { service: opts.service },
    format: winston.format.combine(winston.format.timestamp(), redactFormat(), winston.format.json()),
    transports: [transport],
  });
}
