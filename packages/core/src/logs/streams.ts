import { isIP } from 'node:net';
import { BadRequest, NotFound } from '../errors';
import type { Clock } from '../ports';
import { randomAlnum as randomId } from '../crypto/random';
import { categoryOf, LOG_STREAM_CATEGORIES, type LogEvent } from './events';
import type { LogRepo, Sequenced } from './ports';

export type LogStreamStatus = 'active' | 'paused' | 'suspended';
export type HttpContentFormat = 'JSONLINES' | 'JSONARRAY' | 'JSONOBJECT';

export interface HttpSink {
  httpEndpoint: string;
  httpContentType?: string;
  httpContentFormat?: HttpContentFormat;
  /** The Authorization header sent to the sink: a secret (sealed at rest, never returned in full). */
  httpAuthorization?: string;
  httpCustomHeaders?: Array<{ header: string; value: string }>;
}

export interface LogStream {
  id: string;
  name: string;
  type: 'http';
  status: LogStreamStatus;
  sink: HttpSink;
  filters?: Array<{ type: 'category'; name: string }>;
  isPriority?: boolean;
}

/** Where delivery stands: the last event the sink acknowledged and the failures since. */
export interface DeliveryState {
  cursor: number;
  failures: number;
  nextAttemptAt: number;
  lastError?: string;
  lastAttemptAt?: number;
  lastDeliveredAt?: number;
  delivered: number;
}

export interface StoredLogStream { stream: LogStream; state: DeliveryState }

export interface LogStreamRepo {
  insert(s: LogStream, cursor: number, now: string): Promise<void>;
  replace(s: LogStream, now: string, resetFailures: boolean): Promise<void>;
  delete(id: string): Promise<boolean>;
  findById(id: string): Promise<StoredLogStream | undefined>;
  list(): Promise<StoredLogStream[]>;
  /** Takes the stream's delivery lease (one deliverer across processes and instances) until `until`; false when another holds it. */
  lease(id: string, owner: string, now: number, until: number): Promise<boolean>;
  /** The sink acknowledged everything up to `cursor` (or there was nothing for it): failures reset, lease released. */
  advanced(id: string, owner: string, cursor: number, count: number, now: number): Promise<void>;
  /** A delivery failed: failures counted, the next attempt scheduled, suspended when `suspend`; lease released. */
  failed(id: string, owner: string, failures: number, nextAttemptAt: number, error: string, now: number, suspend: boolean): Promise<void>;
}

/** What posts a batch to a sink (the server's HTTP client, with the address policy). */
export interface SinkTransport {
  post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }>;
}

export interface LogStreamPolicy {
  /** Loopback, private and link-local addresses and plain http allowed (TESSERA_LOG_STREAMS_ALLOW_PRIVATE). */
  allowPrivate: boolean;
}

export const MASK = '********';

/**
 * The address policy, applied when a stream is saved (literal addresses) and again at every connection (the addresses
 * a name resolves to, checked by the transport), so a sink cannot reach into the network Tessera runs in.
 */
export function checkSinkUrl(raw: string, policy: LogStreamPolicy): URL {
  let url: URL;
  try { url = new URL(raw); } catch { throw new BadRequest('Payload validation error: \'Invalid URL\' on property sink.httpEndpoint (HTTP endpoint).'); }
  if (url.protocol !== 'https:' && !(policy.allowPrivate && url.protocol === 'http:')) {
    throw new BadRequest('sink.httpEndpoint must be an https URL.', 'invalid_body');
  }
  if (url.username || url.password) throw new BadRequest('sink.httpEndpoint must not carry credentials (use httpAuthorization).');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host)))) {
    throw new BadRequest('sink.httpEndpoint must not point at a loopback, private or link-local address.');
  }
  return url;
}

const V4_PRIVATE: Array<[number, number]> = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16], [0xac100000, 12],
  [0xc0000000, 24], [0xc0a80000, 16], [0xc6120000, 15], [0xe0000000, 4], [0xf0000000, 4],
];

/** Loopback, private, shared, link-local, multicast, reserved and unspecified addresses (IPv4, IPv6, v4-mapped). */
export function isPrivateAddress(address: string): boolean {
  const a = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return isPrivateAddress(mapped[1]);
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1], 16), lo = parseInt(hexMapped[2], 16);
    return isPrivateAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  if (isIP(a) === 4) {
    const n = a.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
    return V4_PRIVATE.some(([net, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(net / 2 ** (32 - bits)));
  }
  if (isIP(a) === 6) {
    if (a === '::' || a === '::1') return true;
    const first = parseInt(a.split(':')[0] || '0', 16);
    return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00;
  }
  return true;
}

export interface LogStreamCreate { name?: string; type: 'http'; sink: HttpSink; filters?: LogStream['filters']; isPriority?: boolean; status?: LogStreamStatus }
export interface LogStreamPatch { name?: string; status?: LogStreamStatus; sink?: Partial<HttpSink>; filters?: LogStream['filters']; isPriority?: boolean }

/** A stream as the API shows it: the authorization masked, the delivery state alongside. */
export interface LogStreamView extends LogStream {
  delivery: {
    status: 'idle' | 'retrying' | 'suspended' | 'paused';
    consecutive_failures: number; delivered: number; last_log_seq: number;
    last_error?: string; last_attempt_at?: string; last_delivered_at?: string; next_attempt_at?: string;
  };
}

const iso = (ms?: number) => (ms ? new Date(ms).toISOString() : undefined);

function view({ stream, state }: StoredLogStream): LogStreamView {
  const sink = { ...stream.sink };
  if (sink.httpAuthorization !== undefined) sink.httpAuthorization = MASK;
  const delivery: LogStreamView['delivery'] = {
    status: stream.status === 'active' ? (state.failures > 0 ? 'retrying' : 'idle') : stream.status,
    consecutive_failures: state.failures, delivered: state.delivered, last_log_seq: state.cursor,
  };
  if (state.lastError !== undefined) delivery.last_error = state.lastError;
  if (state.lastAttemptAt) delivery.last_attempt_at = iso(state.lastAttemptAt);
  if (state.lastDeliveredAt) delivery.last_delivered_at = iso(state.lastDeliveredAt);
  if (state.failures > 0 && stream.status === 'active') delivery.next_attempt_at = iso(state.nextAttemptAt);
  return { ...stream, sink, delivery };
}

function checkFilters(filters: LogStream['filters']): void {
  for (const f of filters ?? []) {
    if (!(LOG_STREAM_CATEGORIES as readonly string[]).includes(f.name)) {
      throw new BadRequest(`Payload validation error: 'No enum match for: "${f.name}"' on property filters[].name.`);
    }
  }
}

/** /api/v2/log-streams: http streams; other Auth0 stream types are refused. */
export class LogStreamService {
  constructor(private readonly deps: { store: { logStreams: LogStreamRepo; logs: LogRepo }; clock: Clock; policy: LogStreamPolicy }) {}

  async create(body: LogStreamCreate): Promise<LogStreamView> {
    checkSinkUrl(body.sink.httpEndpoint, this.deps.policy);
    checkFilters(body.filters);
    const stream: LogStream = {
      id: `lst_${randomId(16)}`, name: body.name ?? `http-${randomId(6)}`, type: 'http', status: body.status ?? 'active',
      sink: { httpContentFormat: 'JSONLINES', httpContentType: 'application/json', ...body.sink },
      ...(body.filters && { filters: body.filters }), ...(body.isPriority !== undefined && { isPriority: body.isPriority }),
    };
    // a new stream carries events from its creation on
    await this.deps.store.logStreams.insert(stream, await this.deps.store.logs.lastSeq(), this.now());
    return this.get(stream.id);
  }

  async list(): Promise<LogStreamView[]> { return (await this.deps.store.logStreams.list()).map(view); }

  async get(id: string): Promise<LogStreamView> { return view(await this.find(id)); }

  async update(id: string, patch: LogStreamPatch): Promise<LogStreamView> {
    const { stream } = await this.find(id);
    const sink = { ...stream.sink, ...patch.sink };
    // the masked value sent back unchanged keeps the stored secret (an export/import round trip)
    if (patch.sink?.httpAuthorization === MASK) sink.httpAuthorization = stream.sink.httpAuthorization;
    if (patch.sink?.httpEndpoint !== undefined) checkSinkUrl(sink.httpEndpoint, this.deps.policy);
    checkFilters(patch.filters);
    const next: LogStream = { ...stream, sink, ...(patch.name !== undefined && { name: patch.name }), ...(patch.status !== undefined && { status: patch.status }),
      ...(patch.filters !== undefined && { filters: patch.filters }), ...(patch.isPriority !== undefined && { isPriority: patch.isPriority }) };
    // re-activating (or changing the sink of) a stream starts its retries afresh
    const reset = (patch.status === 'active' && stream.status !== 'active') || patch.sink !== undefined;
    await this.deps.store.logStreams.replace(next, this.now(), reset);
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.deps.store.logStreams.delete(id))) throw notFound();
  }

  private async find(id: string): Promise<StoredLogStream> {
    const found = await this.deps.store.logStreams.findById(id);
    if (!found) throw notFound();
    return found;
  }

  private now(): string { return new Date(this.deps.clock.now()).toISOString(); }
}

const notFound = () => new NotFound('The log stream does not exist.', 'inexistent_log_stream');

export interface DeliverySettings {
  /** Events per request. */
  batchSize: number;
  /** Consecutive failures before a stream is suspended. */
  suspendAfter: number;
  /** First retry delay (doubling up to maxBackoffMs). */
  backoffMs: number;
  maxBackoffMs: number;
  /** How often streams are looked at when nothing wakes them (ms). */
  pollMs: number;
  leaseMs: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = { batchSize: 100, suspendAfter: 10, backoffMs: 1000, maxBackoffMs: 5 * 60_000, pollMs: 1000, leaseMs: 30_000 };

/** Auth0's stream payload: each event as `{log_id, data}`. */
const wrap = (e: LogEvent) => ({ log_id: e.log_id, data: e });

/** The request bodies for a batch in the stream's format (JSONOBJECT: one request per event). */
export function bodiesFor(format: HttpContentFormat | undefined, events: LogEvent[]): string[] {
  if (format === 'JSONARRAY') return [JSON.stringify(events.map(wrap))];
  if (format === 'JSONOBJECT') return events.map((e) => JSON.stringify(wrap(e)));
  return [events.map((e) => JSON.stringify(wrap(e))).join('\n')];
}

/**
 * At-least-once delivery with the tenant log as the outbox: each stream keeps the position of the last event its sink
 * acknowledged (in the database), so a restart, a crash or another instance carries on from there. A failed batch is
 * retried with exponential backoff; `suspendAfter` consecutive failures suspend the stream until it is set active again.
 */
export class LogStreamDelivery {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  private readonly owner = randomId(12);

  constructor(private readonly deps: {
    store: { logStreams: LogStreamRepo; logs: LogRepo }; clock: Clock; transport: SinkTransport; settings?: Partial<DeliverySettings>;
    onError?: (e: unknown) => void;
  }) {}

  private get s(): DeliverySettings { return { ...DEFAULT_DELIVERY, ...this.deps.settings }; }

  start(): void {
    this.stopped = false;
    this.schedule(this.s.pollMs);
  }

  /** New events were written: look soon rather than at the next poll. */
  wake(): void { if (!this.stopped) this.schedule(50); }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; void this.runOnce().finally(() => { if (!this.stopped && !this.timer) this.schedule(this.s.pollMs); }); }, ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every active stream that is due. */
  async runOnce(): Promise<void> {
    while (this.running) await this.running;
    this.running = this.pass().catch((e) => this.deps.onError?.(e)).finally(() => { this.running = undefined; });
    await this.running;
  }

  private async pass(): Promise<void> {
    const now = this.deps.clock.now();
    for (const { stream, state } of await this.deps.store.logStreams.list()) {
      if (stream.status !== 'active' || state.nextAttemptAt > now) continue;
      await this.deliver(stream, state).catch((e) => this.deps.onError?.(e));
    }
  }

  private async deliver(stream: LogStream, state: DeliveryState): Promise<void> {
    const { store, clock, transport } = this.deps;
    const s = this.s;
    const events = await store.logs.after(state.cursor, s.batchSize);
    if (events.length === 0) return;
    const now = clock.now();
    if (!(await store.logStreams.lease(stream.id, this.owner, now, now + s.leaseMs))) return;
    const wanted = new Set((stream.filters ?? []).map((f) => f.name));
    const chosen: Sequenced[] = wanted.size === 0 ? events : events.filter((e) => wanted.has(categoryOf(e.event.type)));
    const last = events[events.length - 1].seq;
    if (chosen.length === 0) { await store.logStreams.advanced(stream.id, this.owner, last, 0, now); return; }
    const headers: Record<string, string> = { 'content-type': stream.sink.httpContentType ?? 'application/json', 'user-agent': 'tessera-log-streams' };
    for (const h of stream.sink.httpCustomHeaders ?? []) headers[h.header.toLowerCase()] = h.value;
    if (stream.sink.httpAuthorization) headers.authorization = stream.sink.httpAuthorization;
    try {
      for (const body of bodiesFor(stream.sink.httpContentFormat, chosen.map((e) => e.event))) {
        const res = await transport.post(stream.sink.httpEndpoint, headers, body);
        if (res.status < 200 || res.status >= 300) throw new Error(`sink answered ${res.status}`);
      }
      await store.logStreams.advanced(stream.id, this.owner, last, chosen.length, clock.now());
    } catch (e) {
      const failures = state.failures + 1;
      const delay = Math.min(s.backoffMs * 2 ** (failures - 1), s.maxBackoffMs);
      const message = (e instanceof Error ? e.message : String(e)).slice(0, 300);
      await store.logStreams.failed(stream.id, this.owner, failures, clock.now() + delay, message, clock.now(), failures >= s.suspendAfter);
    }
  }
}
