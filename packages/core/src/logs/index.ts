export * from './events';
export * from './ports';
export * from './event-log';
export * from './query';
export * from './streams';
