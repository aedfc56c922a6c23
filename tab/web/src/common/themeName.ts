import { createContext } from 'react';
import type { TeamsTheme } from '../signIn/signIn';

/** The theme the page shows, for what draws its own colours (the chart) rather than Fluent's tokens. */
export const ThemeName = createContext<TeamsTheme>('default');
