export * from './Problem';
export * from './pageStyles';
export * from './tabApiClient';
export * from './themeName';
export * from './viewRefresh';
export * from './when';
