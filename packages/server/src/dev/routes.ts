import { Type, type Static } from '@sinclair/typebox';
import { BadRequest, Forbidden, SessionService } from '@tessera/core';
import type { FastifyInstance, FastifyError } from 'fastify';
import { SESSION_COOKIE, startSession } from '../auth-api/browser';
import { renderError } from '../http/errors';
import { DEV_TAG } from '../openapi';
import { Empty, errorResponses, StringEnum } from '../schemas/common';
import type { Services } from '../services';
import type { DevControls } from './controls';
import { FAULT_STATUSES } from './faults';

export const DEV_PREFIX = '/tessera/dev';

const tags = [DEV_TAG];
const Name = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Snapshot name: letters, digits, dot, dash, underscore' });
const NameParam = Type.Object({ name: Name });
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 256, description });
const Scope = Type.String({ maxLength: 4096, description: 'Space-separated scopes' });
const ClientTokenBody = Type.Object({
  client_id: Id('The client the token is for (needs the client_credentials grant type and a client grant on the audience)'),
  audience: Type.Optional(Id('The API identifier')),
  scope: Type.Optional(Scope),
  organization: Type.Optional(Id('Organization id or name (per the client grant\'s organization_usage)')),
}, { additionalProperties: false });
const UserRef = {
  user_id: Type.Optional(Id('The user, by id')),
  email: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'The user, by the email address of the database connection' })),
};
const UserTokenBody = Type.Object({
  client_id: Id('The application the tokens are issued to'),
  ...UserRef,
  audience: Type.Optional(Id('The API identifier (none: tokens for /userinfo only)')),
  scope: Type.Optional(Scope),
  organization: Type.Optional(Id('Organization id or name; the user must be a member')),
}, { additionalProperties: false });
const Tokens = Type.Object({
  access_token: Type.String(), token_type: Type.String(), expires_in: Type.Integer(),
  scope: Type.Optional(Type.String()), id_token: Type.Optional(Type.String()), refresh_token: Type.Optional(Type.String()),
});
const SessionBody = Type.Object(UserRef, { additionalProperties: false });
const Cookie = Type.Object({
  name: Type.String(), value: Type.String(), url: Type.String({ description: 'The public URL (the cookie\'s host; path /)' }), expires: Type.Integer({ description: 'Unix seconds' }),
  httpOnly: Type.Boolean(), secure: Type.Boolean(), sameSite: StringEnum(['Lax', 'None']),
}, { description: 'In the shape Playwright\'s context.addCookies() takes' });
const FaultBody = Type.Object({
  path: Type.String({ pattern: '^/[^?#]*$', maxLength: 512, description: 'Request path, or a prefix ending in *' }),
  method: Type.Optional(StringEnum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])),
  status: Type.Optional(Type.Unsafe<(typeof FAULT_STATUSES)[number]>({ type: 'integer', enum: [...FAULT_STATUSES], description: '429 (Auth0\'s rate-limit answer) or a 5xx; absent: latency only' })),
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'How many matching requests (default 1)' })),
  delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'Latency added to each affected request' })),
}, { additionalProperties: false });
const FaultView = Type.Object({
  id: Type.Integer(), path: Type.String(), method: Type.Optional(Type.String()), status: Type.Optional(Type.Integer()), remaining: Type.Integer(), delay_ms: Type.Integer(),
});
const ClockBody = Type.Object({ advance: Type.Number({ minimum: 0, maximum: 10 * 365 * 86400, description: 'Seconds to move the clock forward' }) }, { additionalProperties: false });
const ClockView = Type.Object({ now: Type.String(), offset_seconds: Type.Number() });
const KeysView = Type.Object({ current: Type.String(), revoked: Type.Optional(Type.String()) });

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

const faultView = (f: ReturnType<DevControls['faults']['list']>[number]) => ({
  id: f.id, path: f.path, ...(f.method && { method: f.method }), ...(f.status !== undefined && { status: f.status }), remaining: f.remaining, delay_ms: f.delayMs,
});

/**
 * /tessera/dev/…: development mode's test controls (registered only in development mode, never by `tessera serve`).
 * No credentials: development mode and a loopback caller (the socket's address, not a forwarded one) are the
 * guard, unless development mode was bound to another interface on purpose. Errors use the Management envelope.
 */
export async function devRoutes(app: FastifyInstance, { services, controls, publicUrl }: { services: Services; controls: DevControls; publicUrl: string }): Promise<void> {
  app.setErrorHandler((err: FastifyError, req, reply) => renderError(err, req, reply, true));
  app.addHook('onRequest', async (req) => {
    if (!controls.options.allowRemote && !LOOPBACK.test(req.socket.remoteAddress ?? '')) {
      throw new Forbidden('The development controls answer loopback callers only.', 'loopback_only');
    }
  });
  const noStore = { 'cache-control': 'no-store' };

  app.get('', { schema: { summary: 'Development mode state', tags } }, async () => ({
    development: true, clock: clockView(controls), snapshots: controls.list(), faults: controls.faults.list().map(faultView),
  }));

  app.post('/reset', { schema: { summary: 'Reset to the seed state (data, clock, faults)', tags, response: { 204: Empty, ...errorResponses } } }, async (_req, reply) => {
    await controls.reset();
    return reply.code(204).send();
  });

  app.get('/snapshots', { schema: { summary: 'List snapshots', tags } }, async () => controls.list());
  app.post('/snapshots', { schema: { summary: 'Take a named snapshot', tags, body: Type.Object({ name: Name }, { additionalProperties: false }), response: { 201: Type.Object({ name: Type.String() }), ...errorResponses } } }, async (req, reply) => {
    const { name } = req.body as { name: string };
    await controls.take(name);
    return reply.code(201).send({ name });
  });
  app.post('/snapshots/:name/restore', { schema: { summary: 'Restore a named snapshot', tags, params: NameParam, response: { 204: Empty, ...errorResponses } } }, async (req, reply) => {
    await controls.restore((req.params as { name: string }).name);
    return reply.code(204).send();
  });
  app.delete('/snapshots/:name', { schema: { summary: 'Delete a named snapshot', tags, params: NameParam, response: { 204: Empty, ...errorResponses } } }, async (req, reply) => {
    controls.delete((req.params as { name: string }).name);
    return reply.code(204).send();
  });

  app.post('/tokens/client', { schema: { summary: 'Mint a client_credentials token', tags, body: ClientTokenBody, response: { 200: Tokens, ...errorResponses } } }, async (req, reply) => {
    const b = req.body as Static<typeof ClientTokenBody>;
    reply.headers(noStore);
    return controls.tokens.forClient({ clientId: b.client_id, audience: b.audience, scope: b.scope, organization: b.organization });
  });
  app.post('/tokens/user', { schema: { summary: 'Mint the tokens of a login for a user', tags, body: UserTokenBody, response: { 200: Tokens, ...errorResponses } } }, async (req, reply) => {
    const b = req.body as Static<typeof UserTokenBody>;
    reply.headers(noStore);
    return controls.tokens.forUser({ clientId: b.client_id, userId: b.user_id, email: b.email, audience: b.audience, scope: b.scope, organization: b.organization });
  });

  app.post('/sessions', { schema: { summary: 'Create a logged-in browser session for a user', tags, body: SessionBody, response: { 201: Cookie, ...errorResponses } } }, async (req, reply) => {
    const b = req.body as Static<typeof SessionBody>;
    const user = await controls.tokens.user({ userId: b.user_id, email: b.email });
    const { cookie, record } = await services.userFlows.sessions.create(user);
    startSession(reply, services, cookie);
    const secure = services.userFlows.secureCookies;
    return reply.code(201).headers(noStore).send({
      name: SESSION_COOKIE, value: cookie, url: publicUrl, expires: Math.floor((record.createdAt + SessionService.LIFETIME_MS) / 1000),
      httpOnly: true, secure, sameSite: secure ? 'None' : 'Lax',
    });
  });

  app.get('/faults', { schema: { summary: 'List pending faults', tags } }, async () => controls.faults.list().map(faultView));
  app.post('/faults', { schema: { summary: 'Inject a fault into the next matching requests', tags, body: FaultBody, response: { 201: FaultView, ...errorResponses } } }, async (req, reply) => {
    const b = req.body as Static<typeof FaultBody>;
    if (b.status === undefined && !b.delay_ms) throw new BadRequest('Give a status, a delay_ms, or both.', 'invalid_body');
    const fault = controls.faults.add({ path: b.path, method: b.method, status: b.status, count: b.count ?? 1, delayMs: b.delay_ms ?? 0 });
    return reply.code(201).send(faultView(fault));
  });
  app.delete('/faults', { schema: { summary: 'Clear every pending fault', tags, response: { 204: Empty } } }, async (_req, reply) => {
    controls.faults.clear();
    return reply.code(204).send();
  });

  app.post('/keys/rotate', { schema: { summary: 'Rotate the signing key now', tags, response: { 200: KeysView, ...errorResponses } } }, async () => controls.rotateKeys(false));
  app.post('/keys/revoke', { schema: { summary: 'Rotate and revoke the key that was current (its tokens stop verifying)', tags, response: { 200: KeysView, ...errorResponses } } }, async () => controls.rotateKeys(true));

  app.get('/clock', { schema: { summary: 'The server clock', tags, response: { 200: ClockView } } }, async () => clockView(controls));
  app.post('/clock', { schema: { summary: 'Move the clock forward', tags, body: ClockBody, response: { 200: ClockView, ...errorResponses } } }, async (req) => {
    controls.clock.advance((req.body as Static<typeof ClockBody>).advance);
    return clockView(controls);
  });
}

const clockView = (c: DevControls) => ({ now: new Date(c.clock.now()).toISOString(), offset_seconds: c.clock.offset / 1000 });
