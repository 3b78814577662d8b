export * from './resource-server';
export * from './client';
export * from './client-grant';
export * from './signing-key';
export * from './management-scopes';
export * from './user';
export * from './role';
export * from './organization';
