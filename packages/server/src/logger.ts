import pino, { type Logger } from 'pino';

/** Secrets never reach the logs: headers, bodies and tokens are redacted wherever they appear. */
export const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers.dpop', 'res.headers["set-cookie"]',
  '*.client_secret', '*.client_assertion', '*.signing_secret', '*.access_token', '*.refresh_token', '*.id_token',
  '*.password', '*.code_verifier', '*.privateKeyPkcs8', 'client_secret', 'signing_secret', 'password',
];

/**
 * Logging never blocks a request: lines go to an asynchronous destination (sonic-boom) that writes while
 * the event loop keeps serving and batches whatever arrives during a write in flight. No `minLength`
 * buffering: a line is on its way at once, so a quiet server's last lines are not held back.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream | number = 1): Logger {
  const dest = typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination;
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest as pino.DestinationStream);
}

type LevelMethod = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
type LogArgs = Parameters<Logger['info']>;

/**
 * Request logger that creates pino's child (bindings copied, redaction applied) only when a line is
 * actually written at an enabled level. Most requests on the token route (level `warn`) log nothing,
 * and building a redacting child for each of them was the largest framework cost in the profile.
 */
class LazyChildLogger {
  private real?: Logger;

  constructor(private readonly parent: Logger, private readonly childBindings: Record<string, unknown>, private readonly options: { level?: string }) {}

  private get logger(): Logger {
    this.real ??= this.parent.child(this.childBindings, this.options);
    return this.real;
  }

  get level(): string { return this.real?.level ?? this.options.level ?? this.parent.level; }
  set level(level: string) { this.logger.level = level; }

  isLevelEnabled(level: string): boolean {
    const values = this.parent.levels.values;
    return (values[level] ?? Infinity) >= (values[this.level] ?? Infinity);
  }

  private write(method: LevelMethod, args: LogArgs): void {
    if (this.isLevelEnabled(method)) (this.logger[method] as (...a: LogArgs) => void)(...args);
  }

  trace(...args: LogArgs): void { this.write('trace', args); }
  debug(...args: LogArgs): void { this.write('debug', args); }
  info(...args: LogArgs): void { this.write('info', args); }
  warn(...args: LogArgs): void { this.write('warn', args); }
  error(...args: LogArgs): void { this.write('error', args); }
  fatal(...args: LogArgs): void { this.write('fatal', args); }
  silent(): void { /* nothing */ }
  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): Logger { return this.logger.child(bindings, options); }
  bindings(): Record<string, unknown> { return this.logger.bindings(); }
  flush(cb?: (err?: Error) => void): void { this.logger.flush(cb); }
}

/** Fastify `childLoggerFactory`: per-request loggers that cost nothing until they write. */
export function lazyChildLogger(logger: Logger, bindings: Record<string, unknown>, options: { level?: string }): Logger {
  return new LazyChildLogger(logger, bindings, options) as unknown as Logger;
}
