import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFields, Logger } from '../../core/index.ts';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** File descriptor to write to; 2 (stderr) keeps stdout for command output. */
  fd?: number;
  /** Colours in the pretty format (on a terminal). */
  colorize?: boolean;
}

/** The logger adapter: JSON lines (cluster mode), or readable lines on a terminal. */
export function createLogger(options: LoggerOptions): Logger {
  const fd = options.fd ?? 2;
  const destination =
    options.format === 'pretty'
      ? pretty({ destination: fd, sync: true, colorize: options.colorize ?? true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : pino.destination({ dest: fd, sync: true });
  return wrap(pino({ level: options.level, base: undefined, serializers: { err: pino.stdSerializers.err } }, destination));
}

function wrap(log: PinoLogger): Logger {
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) =>
    fields ? log[level](fields, message) : log[level](message);
  return {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    child: (bindings) => wrap(log.child(bindings)),
  };
}
