export * from './errors.ts';
export * from './logger.ts';
export * from './lifecycle.ts';
export * from './clock.ts';
export * from './ports/sql.ts';
export * from './ports/object-store.ts';
export * from './ports/resource-store.ts';
export * from './domain/identity.ts';
