import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * /docs: the browsable API reference. Swagger UI's files come from the swagger-ui-dist package (no external assets)
 * and are read on the first request to /docs, so a server nobody browses never loads them. The page runs no inline
 * script: its configuration is /docs/init.js, and the CSP allows this origin only.
 */
const DOCS_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

const PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera API reference</title><link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32"></head>
<body><div id="swagger-ui"></div><script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to an outside validator for its badge;
// docExpansion none: the tags open on demand (rendering all ~140 operations at once stalled Swagger UI 5.35)
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json', dom_id: '#swagger-ui', layout: 'BaseLayout', deepLinking: true, validatorUrl: null,
  defaultModelsExpandDepth: 0, displayRequestDuration: true, docExpansion: 'none',
});
`;

/** The files of swagger-ui-dist the page uses, with their types. */
const FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

type Asset = { body: Buffer | string; type: string };

async function loadAssets(): Promise<Map<string, Asset>> {
  const root = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, Asset>([['init.js', { body: INIT, type: 'text/javascript; charset=utf-8' }]]);
  await Promise.all(Object.entries(FILES).map(async ([name, type]) => { assets.set(name, { body: await readFile(join(root, name)), type }); }));
  return assets;
}

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  let assets: Promise<Map<string, Asset>> | undefined;
  const headers = (reply: FastifyReply, type: string, cache: string) => reply.type(type).header('cache-control', cache)
    .header('content-security-policy', DOCS_CSP).header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer');
  const hide = { schema: { hide: true } };

  app.get('/docs', hide, async (_req, reply) => headers(reply, 'text/html; charset=utf-8', 'no-cache').send(PAGE));
  app.get('/docs/:file', hide, async (req, reply) => {
    const name = (req.params as { file: string }).file;
    if (!Object.hasOwn(FILES, name) && name !== 'init.js') return reply.code(404).type('text/plain').send('Not found');
    // a failed read is not cached: the next request tries again
    assets ??= loadAssets().catch((e: unknown) => { assets = undefined; throw e; });
    const asset = (await assets).get(name);
    if (!asset) return reply.code(404).type('text/plain').send('Not found');
    return headers(reply, asset.type, 'public, max-age=3600').send(asset.body);
  });
}
