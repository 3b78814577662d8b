import { Type } from '@sinclair/typebox';
import { BadRequest } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { errorResponses, StringEnum } from '../schemas/common';
import type { Services } from '../services';

const tags = ['tessera'];
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The longest range one request may cover: 400 days by day, 31 days by hour. */
const MAX_SPAN = { day: 400 * DAY, hour: 31 * DAY } as const;

const UsageQuery = Type.Object({
  period: Type.Optional(StringEnum(['hour', 'day'] as const, { description: 'Bucket size: UTC hours (default) or UTC days.' })),
  from: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Start (ISO 8601), rounded down to the bucket. Default: 24 hours (hour) or 30 days (day) before `to`.' })),
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'End (ISO 8601, exclusive). Default: now.' })),
  client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Only this client.' })),
  organization_id: Type.Optional(Type.String({ maxLength: 256, description: 'Only this organization (an empty value: tokens without an organization).' })),
  audience: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'Only this API identifier.' })),
}, { additionalProperties: false });
type Q = { period?: 'hour' | 'day'; from?: string; to?: string; client_id?: string; organization_id?: string; audience?: string };

const UsageResponse = Type.Object({
  period: Type.String(), from: Type.String(), to: Type.String(),
  usage: Type.Array(Type.Object({
    start: Type.String({ description: 'Start of the UTC hour or day.' }),
    client_id: Type.String(), organization_id: Type.Optional(Type.String()), audience: Type.String(),
    issued: Type.Integer({ description: 'Tokens signed.' }),
    reused: Type.Integer({ description: 'Still-valid tokens handed out again (TESSERA_TOKEN_REUSE / tessera_token_reuse).' }),
    refused: Type.Integer({ description: 'Requests refused by an enforced token quota.' }),
  })),
});

/** ISO 8601 (a date, or a date and time with optional seconds, fraction and offset), else NaN: `Date.parse` alone
 * also reads free text such as `' OR '1'='1` as a date. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;
function isoDate(value: string): number {
  return ISO_DATE.test(value) ? Date.parse(value) : Number.NaN;
}

/**
 * GET /api/v2/tessera/usage (Tessera extension, scope read:tessera_usage): client_credentials tokens issued, reused
 * and refused per client, organization and audience, per UTC hour or day, summed over every instance.
 */
export async function tesseraUsageRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  app.get('/tessera/usage', {
    schema: { summary: 'Get client_credentials token usage (Tessera extension)', tags, querystring: UsageQuery, response: { 200: UsageResponse, ...errorResponses } },
    config: { scopes: ['read:tessera_usage'] },
  }, async (req) => {
    const q = req.query as Q;
    const period = q.period ?? 'hour';
    const size = period === 'day' ? DAY : HOUR;
    const to = q.to === undefined ? services.clock.now() : isoDate(q.to);
    const from = q.from === undefined ? to - (period === 'day' ? 30 * DAY : DAY) : isoDate(q.from);
    if (Number.isNaN(to) || Number.isNaN(from)) throw new BadRequest('Query validation error: from and to must be ISO 8601 dates.', 'invalid_query_string');
    if (from >= to) throw new BadRequest('Query validation error: from must be before to.', 'invalid_query_string');
    if (to - from > MAX_SPAN[period]) throw new BadRequest(`Query validation error: the range may cover at most ${MAX_SPAN[period] / DAY} days by ${period}.`, 'invalid_query_string');
    const rows = await services.m2m.usage.report({
      period, from, to, clientId: q.client_id, organizationId: q.organization_id, audience: q.audience,
    });
    return {
      period, from: new Date(Math.floor(from / size) * size).toISOString(), to: new Date(to).toISOString(),
      usage: rows.map((r) => ({
        start: new Date(r.start).toISOString(), client_id: r.clientId, ...(r.organizationId ? { organization_id: r.organizationId } : {}),
        audience: r.audience, issued: r.issued, reused: r.reused, refused: r.refused,
      })),
    };
  });
}
