import { fuzzManagementSuite } from './fuzz';

/** Every GET and DELETE operation of /api/v2, generated requests (mostly with an all-scopes token, so they reach the handlers). */
fuzzManagementSuite('fuzz: Management API GET and DELETE', 'fuzz-management-read', (o) => o.method === 'GET' || o.method === 'DELETE');
