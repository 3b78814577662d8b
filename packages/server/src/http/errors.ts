import { ApiError, BadRequest, OAuthError, PayloadTooLarge, ServerError, TesseraError, UnsupportedMediaType } from '@tessera/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { errorPage } from '../auth-api/pages/pages';

/** Where a path belongs: Management API paths get Auth0's Management envelope, the rest OAuth errors. */
export const isManagementPath = (url: string) => url === '/api/v2' || url.startsWith('/api/v2/') || url.startsWith('/api/v2?');

/** The browser-facing pages (/authorize, the hosted /u/* pages, the logout endpoints) answer client errors with an HTML error page. */
const PAGE_PATHS = new Set(['/authorize', '/authorize/', '/v2/logout', '/v2/logout/', '/oidc/logout', '/oidc/logout/']);
export const isPagePath = (url: string) => {
  const path = url.split('?')[0];
  return PAGE_PATHS.has(path) || path.startsWith('/u/');
};

/** Framework errors (bad JSON, body too large, unknown content type, …) as members of the closed set. */
function fromFramework(err: FastifyError, management: boolean): TesseraError {
  if (err instanceof TesseraError) return err;
  const status = err.statusCode ?? 500;
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return management ? new BadRequest('Invalid request payload JSON format', 'invalid_body') : new OAuthError('invalid_request', 400, 'Invalid request payload JSON format');
    case 'TESSERA_JSON_TOO_DEEP':
      return management ? new BadRequest(`Payload validation error: '${err.message}'.`, 'invalid_body') : new OAuthError('invalid_request', 400, `Invalid request payload: ${err.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return management ? new PayloadTooLarge() : new OAuthError('invalid_request', 413, 'Request entity too large');
    case 'FST_ERR_BAD_URL':
      return management ? new BadRequest("Path validation error: 'Invalid URL encoding'.", 'invalid_uri') : new OAuthError('invalid_request', 400, 'Invalid URL encoding');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return management ? new ApiError(414, 'URI Too Long', 'invalid_uri') : new OAuthError('invalid_request', 414, 'URI Too Long');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return management ? new UnsupportedMediaType('Unsupported Media Type') : new OAuthError('invalid_request', 415, 'Unsupported Media Type');
  }
  if (status >= 400 && status < 500) {
    const message = err.message || STATUS_CODES[status] || 'Bad Request';
    return management ? new ApiError(status, message, 'invalid_request') : new OAuthError('invalid_request', status, message);
  }
  return management ? new ApiError(500, 'Internal Server Error', 'internal_error', { cause: err }) : new ServerError(err);
}

/** The Management renderer: {statusCode, error, message, errorCode}. */
export function renderManagement(reply: FastifyReply, e: ApiError | OAuthError): FastifyReply {
  const status = e.status;
  const body: Record<string, unknown> = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: e.message };
  const errorCode = e instanceof ApiError ? e.errorCode : e.code;
  if (errorCode) body.errorCode = errorCode;
  if (status === 401) body.attributes = { error: e.message };
  return reply.code(status).headers(e.headers).type('application/json; charset=utf-8').serializer(JSON.stringify).send(body);
}

/** The OAuth renderer: {error, error_description[, error_uri]}, never cached. */
export function renderOAuth(reply: FastifyReply, e: OAuthError | ApiError): FastifyReply {
  const code = e instanceof OAuthError ? e.code : e.status === 401 ? 'invalid_token' : e.status >= 500 ? 'server_error' : 'invalid_request';
  const body: Record<string, string> = { error: code, error_description: e.message };
  if (e instanceof OAuthError && e.errorUri) body.error_uri = e.errorUri;
  if (e instanceof OAuthError) Object.assign(body, e.extra);
  return reply.code(e.status).headers(e.headers).header('cache-control', 'no-store').header('pragma', 'no-cache')
    .type('application/json; charset=utf-8').serializer(JSON.stringify).send(body);
}

export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return renderError(err, request, reply, isManagementPath(request.url));
}

/** Renders any error with the Management envelope (`management`) or as an OAuth error / HTML page. */
export function renderError(err: FastifyError, request: FastifyRequest, reply: FastifyReply, management: boolean): FastifyReply {
  const e = fromFramework(err, management) as ApiError | OAuthError;
  if (e.status >= 500) request.log.error({ err: e.privateCause ?? err }, 'request failed');
  else if (e.privateCause) request.log.debug({ cause: String(e.privateCause) }, e.message);
  if (management) return renderManagement(reply, e);
  if (e.status < 500 && isPagePath(request.url)) return errorPage(reply.headers(e.headers), e.status, e instanceof OAuthError ? e.code : 'invalid_request', e.message);
  return renderOAuth(reply, e);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = new ApiError(404, 'Not Found', 'not_found');
  return isManagementPath(request.url) ? renderManagement(reply, e) : renderOAuth(reply, e);
}
