import type { FastifyInstance } from 'fastify';

/**
 * application/x-www-form-urlencoded bodies as a flat object. A parameter sent twice becomes an array,
 * so endpoints can refuse duplicated parameters (RFC 6749 §3.1) instead of silently picking one.
 */
export function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    // no prototype: `constructor=x` is a parameter like any other, `__proto__` cannot reach Object.prototype
    const out = Object.create(null) as Record<string, string | string[]>;
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k];
      if (prev === undefined) out[k] = v;
      else if (Array.isArray(prev)) prev.push(v); // in place: a body of many repeats stays linear
      else out[k] = [prev, v];
    }
    done(null, out);
  });
}
