import { Type, type SchemaOptions, type Static, type TSchema } from '@sinclair/typebox';
import { MAX_TOKEN_QUOTA } from '@tessera/core';

/**
 * `T | null` as one schema (`type: [x, "null"]`) rather than anyOf, so a validation error names the real
 * problem ("No enum match for …") instead of "does not match any schemas".
 */
export const Nullable = <T extends TSchema>(t: T) => {
  const { const: constant, ...rest } = t as unknown as { type?: string | string[]; enum?: unknown[]; const?: unknown };
  const type = rest.type === undefined ? undefined : [...(Array.isArray(rest.type) ? rest.type : [rest.type]), 'null'];
  // a literal becomes a one-value enum, so `null` is not refused by `const`
  const values = constant !== undefined ? [constant] : rest.enum;
  return Type.Unsafe<Static<T> | null>({ ...rest, ...(type && { type }), ...(values && { enum: [...values, null] }) });
};

/** A string enum as a single `enum` keyword (z-schema's "No enum match for: …"). */
export const StringEnum = <const T extends readonly string[]>(values: T, opts: SchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ ...opts, type: 'string', enum: [...values] });

/**
 * Copies of body properties annotated with the value the server applies when the field is absent (create bodies
 * only: an omitted PATCH field keeps its value). Bodies are validated without `useDefaults`, so this documents and
 * changes nothing.
 */
export function withDefaults<P extends Record<string, TSchema>>(props: P, defaults: { readonly [K in keyof P]?: unknown }): P {
  const out: Record<string, TSchema> = { ...props };
  for (const [k, v] of Object.entries(defaults)) if (out[k]) out[k] = { ...out[k], default: v };
  return out as P;
}

/** Auth0's error envelope, declared on every route so undeclared statuses stand out. */
export const ErrorBody = Type.Object({
  statusCode: Type.Integer(), error: Type.String(), message: Type.String(), errorCode: Type.Optional(Type.String()),
  attributes: Type.Optional(Type.Object({ error: Type.String() })),
});

export const errorResponses = {
  400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody,
};

/** page/per_page/include_totals as Auth0 declares them. */
export const OffsetPaging = {
  page: Type.Optional(Type.Integer({ minimum: 0, description: 'Page index of the results to return. First page is 0.' })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Number of results per page.' })),
  include_totals: Type.Optional(Type.Boolean({ description: 'Return results inside an object that contains the total result count (true) or as a direct array of results (false, default).' })),
};

export const Empty = Type.Null({ description: 'No content' });

/** Auth0's `token_quota` of clients and organizations: `client_credentials` with at least one field. */
export const TokenQuotaBody = Type.Object({
  client_credentials: Type.Object({
    enforce: Type.Optional(Type.Boolean({ description: 'If enabled, the quota will be enforced and requests in excess of the quota will fail. If disabled, the quota will not be enforced, but requests exceeding it are logged.' })),
    per_day: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOKEN_QUOTA, description: 'Maximum number of issued tokens per day' })),
    per_hour: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOKEN_QUOTA, description: 'Maximum number of issued tokens per hour' })),
  }, { additionalProperties: false, minProperties: 1, description: 'The token quota configuration' }),
}, { additionalProperties: false });
export const TokenQuotaResponse = Type.Object({
  client_credentials: Type.Object({ enforce: Type.Optional(Type.Boolean()), per_day: Type.Optional(Type.Integer()), per_hour: Type.Optional(Type.Integer()) }),
});
