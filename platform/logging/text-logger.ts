import type { LogFields, Logger } from '../../core/index.ts';
import type { LogLevel } from './pino-logger.ts';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * Readable log lines for short-lived commands (`archipel run`): `LEVEL message key=value ...` on
 * stderr. Lighter to load than pino, whose start-up cost a command that runs for a fraction of a
 * second would feel.
 */
export function createTextLogger(options: { level: LogLevel; write?: (line: string) => void }, bindings: LogFields = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (RANK[level] > RANK[options.level]) return;
    const all = { ...bindings, ...fields };
    const rest = Object.entries(all)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : value instanceof Error ? value.message : JSON.stringify(value)}`)
      .join(' ');
    write(`${level.toUpperCase().padEnd(5)} ${message}${rest ? ` ${rest}` : ''}\n`);
  };
  return {
    error: emit('error'),
    warn: emit('warn'),
    info: emit('info'),
    debug: emit('debug'),
    child: (more) => createTextLogger(options, { ...bindings, ...more }),
  };
}
