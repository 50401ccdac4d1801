export { createLogger, type LoggerOptions, type LogLevel, type LogFormat } from './pino-logger.ts';
export { createTextLogger } from './text-logger.ts';
