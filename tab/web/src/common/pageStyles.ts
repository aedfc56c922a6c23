import { makeStyles, tokens } from '@fluentui/react-components';

/** The layout every page of the tab shares: a page's column, a grid of facts, a row of actions, a stack. */
export const usePageStyles = makeStyles({
  page: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, padding: tokens.spacingHorizontalXL },
  facts: { display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: tokens.spacingHorizontalL, rowGap: tokens.spacingVerticalXS },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', alignItems: 'center' },
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  // A run log's columns at 1,280 pixels: the reason gets the room, long ids and addresses wrap anywhere.
  logNarrow: { width: '11%' },
  logMedium: { width: '19%' },
  logWide: { width: '40%' },
  wrapAnywhere: { overflowWrap: 'anywhere' },
});
