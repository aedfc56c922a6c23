/**
 * The API's schemas (and zod, a tenth of the page's code), for the dashboard's forms: loaded when
 * a form is first sent, not before the dashboard is on screen. The other pages import them as usual.
 */
export const loadSchemas = () => import('../../../shared/apiSchemas');
