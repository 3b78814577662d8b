import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Services } from '../services';

/** /health/live (the process answers), /health/ready (storage answers, keys loaded), /metrics (Prometheus). */
export async function opsRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'tessera_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const duration = new Histogram({ name: 'tessera_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['route'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry] });
  new Gauge({
    name: 'tessera_change_feed_pushed', help: '1 while cache invalidations arrive pushed (PostgreSQL LISTEN/NOTIFY), 0 while polling',
    registers: [registry], collect() { this.set(services.changes.pushed ? 1 : 0); },
  });
  const m2m = new Counter({
    name: 'tessera_client_credentials_tokens_total',
    help: 'client_credentials tokens by outcome (issued: signed, reused: handed out again, refused: over an enforced token quota), client, organization and audience',
    labelNames: ['outcome', 'client_id', 'organization_id', 'audience'], registers: [registry],
  });
  const unsubscribe = services.m2m.usage.subscribe((outcome, clientId, organizationId, audience) => {
    m2m.inc({ outcome, client_id: clientId, organization_id: organizationId, audience });
  });
  app.addHook('onClose', async () => { unsubscribe(); });
  new Gauge({
    name: 'tessera_token_reuse_cache_entries', help: 'client_credentials tokens held for reuse in this process',
    registers: [registry], collect() { this.set(services.m2m.reuse.size); },
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    requests.inc({ route, status: reply.statusCode });
    duration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.get('/health/live', { schema: { summary: 'Liveness', tags: ['ops'] }, logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { summary: 'Readiness', tags: ['ops'] }, logLevel: 'warn' }, async (_req, reply) => {
    try {
      await services.store.ping();
      if (!services.keys.currentKid()) throw new Error('no signing key');
      return { status: 'ok' };
    } catch (e) {
      return reply.code(503).send({ status: 'unavailable', reason: (e as Error).message });
    }
  });
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['ops'] }, logLevel: 'warn' }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()));
}

// Not encapsulated: the metrics hook must see every route of the app, not only the ops routes.
(opsRoutes as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
