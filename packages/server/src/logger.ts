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
