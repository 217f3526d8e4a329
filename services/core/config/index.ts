export type { Config } from './config';
export type { ConfigRole } from './env-schema';
export { loadConfig } from './load-config';
