// `npm run docs:config`: writes the README's configuration table from SETTINGS in server/config.ts,
// between the markers below, so the documentation cannot drift from the schema. The rest of the
// README is left as it is.
import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS, type SettingSpec } from '../server/config';

export const START_MARKER = '<!-- config:start -->';
export const END_MARKER = '<!-- config:end -->';
const README_PATH = path.resolve(__dirname, '..', 'README.md');

/** Table cells: a pipe would end the cell, and <name> would be read as an HTML tag. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
}

/** The generated part: what sits between the markers. */
export function renderConfigSection(): string {
  const rows = (Object.values(SETTINGS) as SettingSpec[]).map((s) =>
    [
      `\`${s.env}\``,
      s.requiredInProduction ? 'yes' : '',
      s.secret ? 'yes' : '',
      s.default === undefined ? '' : `\`${s.default}\``,
      cell(s.description),
    ].join(' | '),
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

/** The README with its configuration section regenerated, or added under "## Configuration" at the end. */
export function withConfigSection(readme: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  const section = `${START_MARKER}${renderConfigSection()}${END_MARKER}`;
  if (start >= 0 && end > start) return readme.slice(0, start) + section + readme.slice(end + END_MARKER.length);
  const separator = readme === '' || readme.endsWith('\n\n') ? '' : readme.endsWith('\n') ? '\n' : '\n\n';
  return `${readme}${separator}## Configuration\n\n${section}\n`;
}

function main(): void {
  const readme = fs.existsSync(README_PATH) ? fs.readFileSync(README_PATH, 'utf8') : '';
  const updated = withConfigSection(readme);
  if (updated === readme) {
    process.stdout.write('README.md configuration section is up to date\n');
    return;
  }
  fs.writeFileSync(README_PATH, updated);
  process.stdout.write('README.md configuration section regenerated\n');
}

if (require.main === module) main();
