import type { FastifyRequest } from 'fastify';

/** Every DPoP header field of the request, one entry each (Node would join repeated fields with ", "). */
export function dpopHeaders(req: FastifyRequest): string[] {
  const raw = req.raw.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i].length === 4 && raw[i].toLowerCase() === 'dpop') out.push(raw[i + 1]);
  return out;
}
