import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { AppPackageError, fillManifest, manifestProblems } from '../../scripts/package-app';

const ROOT = path.resolve(__dirname, '..', '..');
const template = fs.readFileSync(path.join(ROOT, 'appPackage', 'manifest.json'), 'utf8');
const values = {
  TEAMS_APP_ID: '6f1c4a0e-3b2d-4c5e-9a8f-1b2c3d4e5f60',
  CLIENT_ID: '0d7e2f4a-8c1b-4e6d-a3f5-9b8c7d6e5f41',
  BOT_ID: 'a4b3c2d1-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  PUBLIC_URL: 'https://archiver.contoso.example',
};

function readIcon(file: string): PNG {
  return PNG.sync.read(fs.readFileSync(path.join(ROOT, 'appPackage', file)));
}

describe('Teams app manifest', () => {
  it('passes its own schema version, validated offline, once filled for an environment', async () => {
    const manifest = fillManifest(template, values);
    expect(manifest.$schema).toMatch(/^https:\/\/developer\.microsoft\.com\/json-schemas\/teams\/v1\.\d+\/MicrosoftTeams\.schema\.json$/);
    // The validator reads this file instead of downloading the schema: no network needed.
    const shipped = path.join(ROOT, 'node_modules', '@microsoft', 'app-manifest', 'build', 'json-schemas', 'teams', `v${manifest.manifestVersion}`, 'MicrosoftTeams.schema.json');
    expect(fs.existsSync(shipped)).toBe(true);
    expect(manifest.$schema).toContain(`/v${manifest.manifestVersion}/`);
    expect(await manifestProblems(manifest)).toEqual([]);
  });

  it('offers the bot in personal and team scopes with its commands, the personal tab and SSO', () => {
    const manifest = fillManifest(template, values);
    const bot = manifest.bots?.[0];
    expect(bot?.botId).toBe(values.BOT_ID);
    expect(bot?.scopes).toEqual(expect.arrayContaining(['personal', 'team']));
    const commandsByScope = new Map<string, string[]>();
    for (const list of bot?.commandLists ?? []) {
      for (const scope of list.scopes)
        commandsByScope.set(
          scope,
          list.commands.map((c) => c.title),
        );
    }
    for (const scope of ['personal', 'team']) {
      expect(commandsByScope.get(scope)).toEqual(expect.arrayContaining(['status', 'runs', 'rerun', 'unmapped', 'help']));
    }
    const tab = manifest.staticTabs?.find((t) => t.contentUrl);
    expect(tab?.contentUrl).toBe('https://archiver.contoso.example/tab/index.html');
    expect(tab?.scopes).toEqual(['personal']);
    expect('webApplicationInfo' in manifest && manifest.webApplicationInfo).toEqual({ id: values.CLIENT_ID, resource: `api://archiver.contoso.example/${values.CLIENT_ID}` });
    expect(manifest.validDomains).toEqual(['archiver.contoso.example']);
    expect(manifest.id).toBe(values.TEAMS_APP_ID);
  });

  it('reports what the schema forbids, so a broken manifest cannot pass', async () => {
    const manifest = fillManifest(template, { ...values, BOT_ID: 'not-a-guid' });
    const problems = await manifestProblems(manifest);
    expect(problems.join('\n')).toMatch(/bots\/0\/botId/);
  });

  it('names every missing variable at once, and not the host it derives from PUBLIC_URL', () => {
    let error: unknown;
    try {
      fillManifest(template, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppPackageError);
    const message = (error as Error).message;
    for (const name of ['TEAMS_APP_ID', 'CLIENT_ID', 'BOT_ID', 'PUBLIC_URL']) expect(message).toContain(name);
    expect(message).not.toContain('PUBLIC_HOST');
  });

  it('refuses a public URL Teams could not load the tab from', () => {
    expect(() => fillManifest(template, { ...values, PUBLIC_URL: 'http://archiver.contoso.example' })).toThrow(/PUBLIC_URL: must start with https/);
    expect(() => fillManifest(template, { ...values, PUBLIC_URL: 'https://archiver.contoso.example/app/' })).toThrow(/PUBLIC_URL: the origin only/);
  });
});

describe('Teams app icons', () => {
  it('has a 192x192 color icon whose background is the accent color', () => {
    const color = readIcon('color.png');
    expect([color.width, color.height]).toEqual([192, 192]);
    const accent = fillManifest(template, values).accentColor;
    const corner = `#${[...color.data.subarray(0, 3)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
    expect(corner.toUpperCase()).toBe(accent.toUpperCase());
  });

  it('has a 32x32 outline icon: white glyph, transparent everywhere else', () => {
    const outline = readIcon('outline.png');
    expect([outline.width, outline.height]).toEqual([32, 32]);
    let visible = 0;
    for (let i = 0; i < outline.data.length; i += 4) {
      if (outline.data[i + 3] === 0) continue;
      visible++;
      expect([...outline.data.subarray(i, i + 3)]).toEqual([255, 255, 255]);
    }
    const alphaAt = (x: number, y: number) => outline.data[(y * 32 + x) * 4 + 3];
    expect([alphaAt(0, 0), alphaAt(31, 0), alphaAt(0, 31), alphaAt(31, 31)]).toEqual([0, 0, 0, 0]);
    expect(visible).toBeGreaterThan(32 * 32 * 0.1);
    expect(visible).toBeLessThan(32 * 32 * 0.9);
  });
});
