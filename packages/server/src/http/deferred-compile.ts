import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';

/**
 * Request and response schemas compiled on a route's first use rather than when the app starts.
 *
 * Fastify compiles every route's validators (Ajv) and response serializers (fast-json-stringify) while it gets
 * ready: ~140 routes, most of the start-up CPU and several MB of generated code held for routes a deployment may
 * never call (an M2M-only server answers /oauth/token and little else). Here the compilers Fastify calls return a
 * stand-in that compiles the same schema with the same compiler on its first call and then delegates to the result,
 * so validation and serialization are unchanged; only the moment of compilation moves.
 *
 * Every stand-in not compiled yet is listed per app: `compileDeferredSchemas(app)` compiles them all at once (the
 * schema test does, so a schema that cannot compile fails a test rather than a first request).
 */
type Compiled = (...args: never[]) => unknown;
type Pending = Set<() => unknown>;

const PENDING = new WeakMap<object, Pending>();

function deferred<C, F extends Compiled>(compile: (ctx: C) => F, pending: Pending): (ctx: C) => F {
  return (ctx) => {
    let fn: F | undefined;
    const force = (): F => {
      if (fn === undefined) {
        fn = compile(ctx);
        pending.delete(force);
      }
      return fn;
    };
    pending.add(force);
    return ((...args: never[]) => (fn ?? force())(...args)) as F;
  };
}

/** Fastify's own serializer builder (@fastify/fast-json-stringify-compiler), resolved where Fastify resolves it. */
function defaultSerializerBuilder(): (externalSchemas: unknown, serializerOpts: unknown) => (ctx: unknown) => Compiled {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  const { SerializerSelector } = fromFastify('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => ReturnType<typeof defaultSerializerBuilder> };
  return SerializerSelector();
}

/**
 * Fastify options and the validator compiler wrapper for one app. `register(app)` ties the pending list to the app
 * once it is built.
 */
export function deferredSchemas<V extends (ctx: never) => Compiled>(validatorCompiler: V) {
  const pending: Pending = new Set();
  const buildSerializer = defaultSerializerBuilder();
  const schemaController: FastifyServerOptions['schemaController'] = {
    compilersFactory: {
      buildSerializer: (externalSchemas: unknown, serializerOpts: unknown) => deferred(buildSerializer(externalSchemas, serializerOpts), pending),
    } as never,
  };
  return {
    schemaController,
    validatorCompiler: deferred(validatorCompiler as unknown as (ctx: Parameters<V>[0]) => ReturnType<V>, pending) as unknown as V,
    register(app: FastifyInstance) { PENDING.set(app, pending); },
  };
}

/** Compiles every schema of the app not compiled yet (after `ready()`); returns how many it compiled. */
export function compileDeferredSchemas(app: FastifyInstance): number {
  const pending = PENDING.get(app);
  if (!pending) return 0;
  const all = [...pending];
  for (const force of all) force();
  return all.length;
}

/** Schemas of the app still waiting for their route's first use. */
export function deferredSchemaCount(app: FastifyInstance): number {
  return PENDING.get(app)?.size ?? 0;
}
