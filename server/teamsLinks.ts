/** The static tab's entityId in the Teams manifest (appPackage/manifest.json). */
export const TAB_ENTITY_ID = 'archiver';

/**
 * The bot's "Open in the tab" link: a Teams deep link to the static tab, whose sub-page id
 * `run:<id>` Teams hands the tab in its context, and the tab opens that run.
 */
export function teamsRunLink(teamsAppId: string, runId: string): string {
  return `https://teams.microsoft.com/l/entity/${encodeURIComponent(teamsAppId)}/${TAB_ENTITY_ID}?context=${encodeURIComponent(JSON.stringify({ subEntityId: `run:${runId}` }))}`;
}
