import { Type } from '@sinclair/typebox';
import { NotFound, type AuthenticatorRecord } from '@tessera/core';
import type { FastifyInstance } from 'fastify';
import { Empty, errorResponses, OffsetPaging } from '../schemas/common';
import { offsetBody, offsetWindow, type OffsetQuery } from '../http/paging';
import type { Services } from '../services';

const tags = ['users'];
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

const AuthenticationMethod = Type.Object({
  id: Type.String(), type: Type.String({ description: 'totp or recovery-code' }), confirmed: Type.Boolean(),
  created_at: Type.String(), last_auth_at: Type.Optional(Type.String()),
});
const Enrollment = Type.Object({
  id: Type.String(), status: Type.String({ description: 'pending or confirmed' }), type: Type.String(), auth_method: Type.String(),
  enrolled_at: Type.String(), last_auth: Type.Optional(Type.String()),
});
const UserParam = Type.Object({ id: Type.String({ minLength: 1, description: 'The ID of the user.' }) });
const MethodParams = Type.Object({
  id: Type.String({ minLength: 1, description: 'The ID of the user.' }),
  authentication_method_id: Type.String({ minLength: 1, description: 'The ID of the authentication method.' }),
});
const EnrollmentParam = Type.Object({ id: Type.String({ minLength: 1, description: 'ID of the enrollment.' }) });
const ListQuery = Type.Object({ ...OffsetPaging }, { additionalProperties: true });

const methodView = (a: AuthenticatorRecord) => ({ id: a.id, type: a.type, confirmed: a.confirmed, created_at: iso(a.createdAt) as string, last_auth_at: iso(a.lastAuthAt) });
/** Guardian enrollments are the TOTP authenticators, under the id after `totp|`. */
const enrollmentView = (a: AuthenticatorRecord) => ({
  id: a.id.slice('totp|'.length), status: a.confirmed ? 'confirmed' : 'pending', type: 'authenticator', auth_method: 'authenticator',
  enrolled_at: iso(a.createdAt) as string, last_auth: iso(a.lastAuthAt),
});
const METHOD_NOT_FOUND = () => new NotFound('Authentication method not found.', 'inexistent_authentication_method');
const ENROLLMENT_NOT_FOUND = () => new NotFound('Enrollment not found.', 'inexistent_enrollment');

/**
 * A user's second factors as Auth0 exposes them: `/users/{id}/authentication-methods` (TOTP and recovery code) and
 * the older Guardian view (`/users/{id}/enrollments`, `/guardian/enrollments/{id}`). Deleting the TOTP also deletes
 * the recovery code; the user is then no longer challenged.
 */
export async function authenticationMethodRoutes(app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { users } = services;
  const { mfa } = services.userFlows;
  const methodsOf = async (userId: string) => { await users.get(userId); return mfa.authenticators(userId); };

  app.get('/users/:id/authentication-methods', {
    schema: { summary: "Get a user's authentication methods", tags, params: UserParam, querystring: ListQuery, response: { 200: Type.Union([Type.Array(AuthenticationMethod), Type.Object({ start: Type.Integer(), limit: Type.Integer(), total: Type.Integer(), authenticators: Type.Array(AuthenticationMethod) })]), ...errorResponses } },
    config: { scopes: ['read:authentication_methods'] },
  }, async (req) => {
    const q = req.query as OffsetQuery;
    const w = offsetWindow(q);
    const all = await methodsOf((req.params as { id: string }).id);
    const items = all.slice(w.offset, w.limit === undefined ? undefined : w.offset + w.limit);
    return offsetBody('authenticators', q, w, { items, total: all.length }, methodView);
  });

  app.get('/users/:id/authentication-methods/:authentication_method_id', {
    schema: { summary: 'Get an authentication method by ID', tags, params: MethodParams, response: { 200: AuthenticationMethod, ...errorResponses } },
    config: { scopes: ['read:authentication_methods'] },
  }, async (req) => {
    const p = req.params as { id: string; authentication_method_id: string };
    const found = (await methodsOf(p.id)).find((a) => a.id === p.authentication_method_id);
    if (!found) throw METHOD_NOT_FOUND();
    return methodView(found);
  });

  app.delete('/users/:id/authentication-methods/:authentication_method_id', {
    schema: { summary: 'Delete an authentication method by ID', tags, params: MethodParams, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:authentication_methods'] },
  }, async (req, reply) => {
    const p = req.params as { id: string; authentication_method_id: string };
    await users.get(p.id);
    if (!(await mfa.remove(p.id, p.authentication_method_id))) throw METHOD_NOT_FOUND();
    return reply.code(204).send();
  });

  app.delete('/users/:id/authentication-methods', {
    schema: { summary: 'Delete all authentication methods of a user', tags, params: UserParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:authentication_methods'] },
  }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    await users.get(id);
    await mfa.removeAll(id);
    return reply.code(204).send();
  });

  app.get('/users/:id/enrollments', {
    schema: { summary: "Get a user's Guardian enrollments", tags, params: UserParam, response: { 200: Type.Array(Enrollment), ...errorResponses } },
    config: { scopes: ['read:users'] },
  }, async (req) => (await methodsOf((req.params as { id: string }).id)).filter((a) => a.type === 'totp').map(enrollmentView));

  app.get('/guardian/enrollments/:id', {
    schema: { summary: 'Get a Guardian enrollment', tags: ['guardian'], params: EnrollmentParam, response: { 200: Enrollment, ...errorResponses } },
    config: { scopes: ['read:guardian_enrollments'] },
  }, async (req) => {
    const found = await services.store.authenticators.findById(`totp|${(req.params as { id: string }).id}`);
    if (!found) throw ENROLLMENT_NOT_FOUND();
    return enrollmentView(found);
  });

  app.delete('/guardian/enrollments/:id', {
    schema: { summary: 'Delete a Guardian enrollment', tags: ['guardian'], params: EnrollmentParam, response: { 204: Empty, ...errorResponses } },
    config: { scopes: ['delete:guardian_enrollments'] },
  }, async (req, reply) => {
    const found = await services.store.authenticators.findById(`totp|${(req.params as { id: string }).id}`);
    if (!found || !(await mfa.remove(found.userId, found.id))) throw ENROLLMENT_NOT_FOUND();
    return reply.code(204).send();
  });
}
