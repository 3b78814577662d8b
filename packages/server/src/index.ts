export { buildApp } from './app';
export { bootstrap, resetAdminCredentials, ResetRefused, MANAGEMENT_API_NAME, type ResetResult } from './bootstrap';
export { loadConfig, ConfigError, SETTINGS, decodeMasterKey, unknownVariableWarnings, distance, type Config } from './config';
export { explainStartupFailure } from './startup-errors';
export { createLogger } from './logger';
export { buildServices, type Services } from './services';
export { createTessera, listen, type Tessera } from './tessera';
export { discoveryDocument } from './auth-api/discovery';
export { createAdminUser, type AdminUserResult } from './dashboard/setup';
