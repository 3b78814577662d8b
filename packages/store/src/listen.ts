import type pg from 'pg';
import { pgDriver } from './drivers';
import type { ChangeEvents, ChangeSubscription } from '@tessera/core';

/** The PostgreSQL channel every write notifies (payload: the store generation after the write). */
export const CHANGES_CHANNEL = 'tessera_changes';
/** The listening connection's application_name, so operators (and tests) can find it in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'tessera-changes';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

/**
 * One dedicated connection (outside the query pool) that LISTENs on the changes channel. When it breaks (server
 * restart, failover, a terminated backend, a network error) it reports `state(false)` and reconnects with a growing
 * delay (100 ms … 5 s); once listening again it reports `state(true)`. TCP keep-alive notices a silently dead peer.
 */
export async function listenForChanges(url: string, events: ChangeEvents): Promise<ChangeSubscription> {
  let client: pg.Client | undefined;
  let closed = false;
  let delay = RETRY_MIN_MS;
  let retry: NodeJS.Timeout | undefined;

  const lost = (c: pg.Client) => {
    if (client !== c) return; // an old connection's late event
    client = undefined;
    c.removeAllListeners('notification');
    c.end().catch(() => undefined);
    if (closed) return;
    events.state(false);
    retry = setTimeout(() => void connect(), delay);
    retry.unref();
    delay = Math.min(delay * 2, RETRY_MAX_MS);
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new (pgDriver().Client)({ connectionString: url, application_name: LISTENER_APPLICATION_NAME, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    client = c;
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    c.on('notification', (n) => {
      const generation = Number(n.payload);
      if (n.channel === CHANGES_CHANNEL && Number.isSafeInteger(generation)) events.changed(generation);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch {
      lost(c);
      return;
    }
    if (client !== c || closed) return;
    delay = RETRY_MIN_MS;
    events.state(true);
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
