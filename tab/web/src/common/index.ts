// What every page of the tab uses: the API client, the error bar, the page layout, the refresh
// between views, dates, the theme's name. Pages import them from here, not file by file: esbuild
// splits the bundle by the set of pages that reach a module, and through one door these reach the
// same set, so they load as one chunk with the imports page rather than as many small ones.
// (The confirmation dialog is not here: only later pages ask, and Fluent's dialog loads with them.)
export * from './Problem';
export * from './pageStyles';
export * from './tabApiClient';
export * from './themeName';
export * from './viewRefresh';
export * from './when';
