import { fuzzManagementSuite } from './fuzz';

/** Every POST, PATCH and PUT operation of /api/v2, generated requests (mostly with an all-scopes token, so they reach the handlers). */
fuzzManagementSuite('fuzz: Management API POST, PATCH and PUT', 'fuzz-management-write', (o) => o.method !== 'GET' && o.method !== 'DELETE');
