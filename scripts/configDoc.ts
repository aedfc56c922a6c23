// `npm run docs:config`: writes the configuration table of docs/configuration.md from SETTINGS in
// server/config.ts, between the markers below, so the documentation cannot drift from the schema.
// The rest of the file is left as it is.
import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS, type SettingSpec } from '../server/config';

export const START_MARKER = '<!-- config:start -->';
export const END_MARKER = '<!-- config:end -->';
const DOC_PATH = path.resolve(__dirname, '..', 'docs', 'configuration.md');

/** Table cells: a pipe would end the cell, and <name> would be read as an HTML tag. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

/** The generated part: what sits between the markers. */
export function renderConfigSection(): string {
  const rows = (Object.values(SETTINGS) as SettingSpec[]).map((s) =>
    [`\`${s.env}\``, s.requiredInProduction ? 'yes' : '', s.secret ? 'yes' : '', s.default === undefined ? '' : `\`${s.default}\``, cell(s.description)].join(' | '),
  );
  return [
    '',
    'Generated from `server/config.ts` by `npm run docs:config`; edit the settings there, not here.',
    '`NODE_ENV=production` makes every setting marked "required in production" mandatory. In Azure,',
    'infra/main.bicep sets them as App Service settings, secrets as Key Vault references.',
    '',
    '| Variable | Required in production | Secret | Default | Description |',
    '|---|---|---|---|---|',
    ...rows.map((row) => `| ${row} |`),
    '',
  ].join('\n');
}

/** The document with its configuration section regenerated, or added under "## Configuration" at the end. */
export function withConfigSection(readme: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  const section = `${START_MARKER}${renderConfigSection()}${END_MARKER}`;
  if (start >= 0 && end > start) return readme.slice(0, start) + section + readme.slice(end + END_MARKER.length);
  const separator = readme === '' || readme.endsWith('\n\n') ? '' : readme.endsWith('\n') ? '\n' : '\n\n';
  return `${readme}${separator}## Configuration\n\n${section}\n`;
}

function main(): void {
  const readme = fs.existsSync(DOC_PATH) ? fs.readFileSync(DOC_PATH, 'utf8') : '';
  const updated = withConfigSection(readme);
  if (updated === readme) {
    process.stdout.write('docs/configuration.md is up to date\n');
    return;
  }
  fs.writeFileSync(DOC_PATH, updated);
  process.stdout.write('docs/configuration.md regenerated\n');
}

if (require.main === module) main();
