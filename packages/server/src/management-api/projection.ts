import { Type, type TObject, type TSchema } from '@sinclair/typebox';

/**
 * Auth0's `fields` / `include_fields` query parameters, written once for every list and get that takes them
 * (users, users-by-email, clients, organization members). `fields` is a comma-separated list of top-level
 * property names; `include_fields=true` (the default) keeps only those, `false` drops them. An empty or
 * absent `fields` returns everything, whatever `include_fields` says. Unknown names select nothing.
 */
export const FieldsQuery = {
  fields: Type.Optional(Type.String({ maxLength: 2048, description: 'Comma-separated list of fields to include or exclude (based on value provided for include_fields) in the result. Leave empty to retrieve all fields.' })),
  include_fields: Type.Optional(Type.Boolean({ description: 'Whether specified fields are to be included (true) or excluded (false).' })),
};

export interface FieldsParams { fields?: string; include_fields?: boolean }

export interface Projection { readonly names: ReadonlySet<string>; readonly include: boolean }

/** The projection a query asks for, or undefined for the whole object. */
export function projection(q: FieldsParams): Projection | undefined {
  const names = new Set((q.fields ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  if (names.size === 0) return undefined;
  return { names, include: q.include_fields !== false };
}

/** A shallow copy holding only the selected top-level properties (the object itself when nothing is selected). */
export function project<T extends object>(obj: T, p: Projection | undefined): Partial<T> {
  if (!p) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (p.names.has(k) === p.include) out[k] = v;
  return out as Partial<T>;
}

/** `view` followed by the projection, for `offsetBody` / `checkpointBody` item mappers. */
export const projecting = <T, R extends object>(view: (t: T) => R, p: Projection | undefined) =>
  p ? (t: T) => project(view(t), p) : view;

/**
 * The response schema of a projected route: the full item schema with every property optional, so the
 * serializer neither fails on a missing required property nor lets an undeclared one through.
 */
export const projectedResponse = <T extends TObject>(item: T): TSchema => Type.Partial(item);
