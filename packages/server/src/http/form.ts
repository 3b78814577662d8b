import type { FastifyInstance } from 'fastify';

/**
 * application/x-www-form-urlencoded bodies as a flat object. A parameter sent twice becomes an array,
 * so endpoints can refuse duplicated parameters (RFC 6749 §3.1) instead of silently picking one.
 */
export function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k];
      if (prev === undefined) out[k] = v;
      else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    done(null, out);
  });
}
