import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSinkUrl, isPrivateAddress } from '@tessera/core';
import { ADMIN_ID, ADMIN_SECRET, MGMT_AUDIENCE, TestClock, eachDialect, startTessera, type TestServer } from './helpers/tessera';
import { managementToken, uniq } from './helpers/management';

/** A local sink that records what it receives and fails on purpose while told to. */
class Sink {
  received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  failing = false;
  private server?: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        if (this.failing) { res.statusCode = 503; res.end('down'); return; }
        this.received.push({ headers: req.headers, body });
        res.statusCode = 200;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as { port: number }).port}/logs`;
  }
  events(): Array<{ log_id: string; data: Record<string, any> }> {
    return this.received.flatMap((r) => (r.body.trim().startsWith('[') ? JSON.parse(r.body) : r.body.split('\n').filter(Boolean).map((l) => JSON.parse(l))));
  }
  async stop(): Promise<void> { await new Promise((r) => this.server?.close(r)); }
}

const ALLOW = { TESSERA_LOG_STREAMS_ALLOW_PRIVATE: 'on' };
const SECRET = 'Bearer sink-secret-0123456789';

eachDialect('log streams', (dialect) => {
  let s: TestServer;
  let sink: Sink;
  const masterKey = randomBytes(32).toString('base64');
  const clock = new TestClock();

  const deliver = async (server = s) => { await server.t.services.events.flush(); await server.t.services.logStreamDelivery.runOnce(); };
  const tokens = async (n: number, server = s) => {
    for (let i = 0; i < n; i++) {
      const r = await server.token({ grant_type: 'client_credentials', client_id: ADMIN_ID, client_secret: ADMIN_SECRET, audience: MGMT_AUDIENCE });
      expect(r.status).toBe(200);
    }
  };

  beforeAll(async () => {
    sink = new Sink();
    await sink.start();
    s = await startTessera(dialect, { env: ALLOW, masterKey, clock });
  });
  afterAll(async () => { await s.close(); await s.db.drop(); await sink.stop(); });

  it('CRUD in Auth0\'s shape; the authorization is sealed at rest and answered masked', async () => {
    const created = await s.api('POST', '/log-streams', {
      name: 'siem', type: 'http', sink: { httpEndpoint: sink.url, httpAuthorization: SECRET, httpContentFormat: 'JSONARRAY', httpContentType: 'application/json' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^lst_/), name: 'siem', type: 'http', status: 'active',
      sink: { httpEndpoint: sink.url, httpAuthorization: '********', httpContentFormat: 'JSONARRAY', httpContentType: 'application/json' },
      delivery: { status: 'idle', consecutive_failures: 0, delivered: 0 },
    });
    const id = created.body.id as string;
    expect((await s.api('GET', `/log-streams/${id}`)).body.sink.httpAuthorization).toBe('********');
    expect((await s.api('GET', '/log-streams')).body.map((x: any) => x.id)).toContain(id);
    const rows = await (s.t.store.db as any).selectFrom('log_streams').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain('sink-secret');
    const renamed = await s.api('PATCH', `/log-streams/${id}`, { name: 'siem-2', sink: { httpAuthorization: '********' } });
    expect(renamed.body).toMatchObject({ name: 'siem-2', sink: { httpAuthorization: '********' } });
    expect((await s.t.services.store.logStreams.findById(id))?.stream.sink.httpAuthorization).toBe(SECRET);
    expect((await s.api('DELETE', `/log-streams/${id}`)).status).toBe(204);
    expect(await s.api('GET', `/log-streams/${id}`)).toMatchObject({ status: 404, body: { errorCode: 'inexistent_log_stream' } });
    expect((await s.api('DELETE', `/log-streams/${id}`)).status).toBe(404);
  });

  it('refuses other stream types, unknown categories and formats, bad URLs; scopes as Auth0 documents them', async () => {
    for (const body of [
      { type: 'datadog', sink: { datadogApiKey: 'x', datadogRegion: 'us' } },
      { type: 'http', sink: { httpEndpoint: sink.url }, filters: [{ type: 'category', name: 'auth.everything' }] },
      { type: 'http', sink: { httpEndpoint: sink.url, httpContentFormat: 'XML' } },
      { type: 'http', sink: { httpEndpoint: 'not a url' } },
      { type: 'http', sink: { httpEndpoint: 'ftp://example.com/x' } },
      { type: 'http', sink: { httpEndpoint: 'https://user:pw@example.com/x' } },
      { type: 'http', sink: { httpEndpoint: sink.url, httpCustomHeaders: [{ header: 'bad header', value: 'x' }] } },
    ]) {
      const r = await s.api('POST', '/log-streams', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    }
    expect((await s.api('GET', '/log-streams')).body).toEqual([]);
    const weak = await managementToken(s, ['read:log_streams']);
    expect((await s.api('POST', '/log-streams', { type: 'http', sink: { httpEndpoint: sink.url } }, { token: weak })).status).toBe(403);
    expect((await s.api('GET', '/log-streams', undefined, { token: weak })).status).toBe(200);
  });

  it('delivers events as {log_id, data} with the authorization header, filtered by category', async () => {
    sink.received = [];
    const all = (await s.api('POST', '/log-streams', { type: 'http', sink: { httpEndpoint: sink.url, httpAuthorization: SECRET } })).body;
    const mgmt = (await s.api('POST', '/log-streams', { type: 'http', sink: { httpEndpoint: sink.url, httpContentFormat: 'JSONARRAY' }, filters: [{ type: 'category', name: 'management.success' }] })).body;
    await tokens(2);
    expect((await s.api('PATCH', `/log-streams/${mgmt.id}`, { name: 'mgmt-only' })).status).toBe(200);
    await deliver();
    const lines = sink.received.filter((r) => r.headers.authorization === SECRET).flatMap((r) => r.body.split('\n').map((l) => JSON.parse(l)));
    expect(lines.filter((e) => e.data.type === 'seccft').length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toEqual({ log_id: lines[0].data.log_id, data: expect.objectContaining({ type: expect.any(String), date: expect.any(String) }) });
    const arrays = sink.received.filter((r) => r.headers.authorization === undefined).flatMap((r) => JSON.parse(r.body));
    expect(arrays.length).toBeGreaterThan(0);
    expect(arrays.every((e: any) => e.data.type === 'sapi')).toBe(true);
    expect(JSON.stringify(sink.received.map((r) => r.body))).not.toContain(ADMIN_SECRET);
    const state = (await s.api('GET', `/log-streams/${all.id}`)).body.delivery;
    expect(state).toMatchObject({ status: 'idle', consecutive_failures: 0, delivered: lines.length, last_delivered_at: expect.any(String) });
    await s.api('DELETE', `/log-streams/${all.id}`);
    await s.api('DELETE', `/log-streams/${mgmt.id}`);
  });

  it('retries a failing sink with backoff, shows it, suspends it after 10 failures; setting it active resumes', async () => {
    sink.received = [];
    sink.failing = true;
    const st = (await s.api('POST', '/log-streams', { type: 'http', sink: { httpEndpoint: sink.url } })).body;
    await tokens(1);
    await deliver();
    let view = (await s.api('GET', `/log-streams/${st.id}`)).body;
    expect(view.delivery).toMatchObject({ status: 'retrying', consecutive_failures: 1, last_error: 'sink answered 503', next_attempt_at: expect.any(String) });
    await deliver(); // not due yet: no attempt
    expect((await s.api('GET', `/log-streams/${st.id}`)).body.delivery.consecutive_failures).toBe(1);
    for (let i = 2; i <= 10; i++) { clock.advance(600); await deliver(); }
    view = (await s.api('GET', `/log-streams/${st.id}`)).body;
    expect(view.status).toBe('suspended');
    expect(view.delivery).toMatchObject({ status: 'suspended', consecutive_failures: 10 });
    sink.failing = false;
    clock.advance(600);
    await deliver();
    expect(sink.received).toEqual([]); // suspended: nothing is sent
    expect((await s.api('PATCH', `/log-streams/${st.id}`, { status: 'active' })).body.delivery).toMatchObject({ status: 'idle', consecutive_failures: 0 });
    await deliver();
    expect(sink.events().some((e) => e.data.type === 'seccft')).toBe(true);
    await s.api('DELETE', `/log-streams/${st.id}`);
  });

  it('delivers at least once across a restart: what the failing sink missed arrives from the next server on the database', async () => {
    sink.received = [];
    sink.failing = true;
    const st = (await s.api('POST', '/log-streams', { name: `restart-${uniq()}`, type: 'http', sink: { httpEndpoint: sink.url, httpAuthorization: SECRET } })).body;
    await tokens(3);
    await deliver();
    await s.t.services.events.flush();
    const before = ((await s.api('GET', '/logs?q=type:seccft&per_page=3')).body as Array<{ log_id: string }>).map((e) => e.log_id);
    expect(before.length).toBe(3);
    expect((await s.api('GET', `/log-streams/${st.id}`)).body.delivery.consecutive_failures).toBe(1);
    await s.t.close();
    sink.failing = false;
    const later = new TestClock(clock.ms + 3600_000);
    s = await startTessera(dialect, { env: ALLOW, masterKey, clock: later, database: s.db });
    await deliver();
    const got = new Set(sink.events().map((e) => e.log_id));
    for (const id of before) expect(got.has(id), id).toBe(true);
    expect(sink.received.every((r) => r.headers.authorization === SECRET)).toBe(true);
    expect((await s.api('GET', `/log-streams/${st.id}`)).body.delivery).toMatchObject({ status: 'idle', consecutive_failures: 0 });
  });
});

describe('log stream sink addresses', () => {
  it('refuses loopback, private, link-local and plain http unless allowed', () => {
    const off = { allowPrivate: false };
    for (const url of ['http://example.com/x', 'https://127.0.0.1/x', 'https://localhost/x', 'https://10.1.2.3/x', 'https://169.254.169.254/latest', 'https://[::1]/x', 'https://[fd00::1]/x', 'https://[::ffff:127.0.0.1]/x']) {
      expect(() => checkSinkUrl(url, off), url).toThrow();
    }
    expect(checkSinkUrl('https://logs.example.com/in', off).hostname).toBe('logs.example.com');
    expect(checkSinkUrl('http://127.0.0.1:9/x', { allowPrivate: true }).port).toBe('9');
    expect(isPrivateAddress('192.168.1.1')).toBe(true);
    expect(isPrivateAddress('100.64.0.1')).toBe(true);
    expect(isPrivateAddress('8.8.8.8')).toBe(false);
    expect(isPrivateAddress('2606:4700::1111')).toBe(false);
  });
});
