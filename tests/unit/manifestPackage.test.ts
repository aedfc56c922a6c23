import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { AppManifestUtils, type TeamsManifest } from '@microsoft/app-manifest';

const ROOT = path.resolve(__dirname, '..', '..');
const env = `jest${process.pid}`;
const zipPath = path.join(ROOT, 'appPackage', 'build', `appPackage.${env}.zip`);
const values = {
  TEAMS_APP_ID: '6f1c4a0e-3b2d-4c5e-9a8f-1b2c3d4e5f60',
  CLIENT_ID: '0d7e2f4a-8c1b-4e6d-a3f5-9b8c7d6e5f41',
  BOT_ID: 'a4b3c2d1-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  PUBLIC_URL: 'https://archiver.contoso.example',
};

/** `npm run package -- --env <env>` as a person runs it, with only the given variables set. */
function runPackage(vars: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'package-app.ts'), '--env', env],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...vars } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

afterEach(() => fs.rmSync(zipPath, { force: true }));

describe('npm run package', () => {
  it('writes a zip whose manifest passes the schema and whose icons have the right sizes', async () => {
    const run = await runPackage(values);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`appPackage.${env}.zip`);

    const zip = await JSZip.loadAsync(fs.readFileSync(zipPath));
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as TeamsManifest;
    expect(await AppManifestUtils.validateAgainstSchema(manifest)).toEqual([]);
    expect(manifest.id).toBe(values.TEAMS_APP_ID);
    expect(manifest.bots?.[0].botId).toBe(values.BOT_ID);
    expect(JSON.stringify(manifest)).not.toContain('${{');

    for (const [name, size] of [
      [manifest.icons.color, 192],
      [manifest.icons.outline, 32],
    ] as const) {
      const png = PNG.sync.read(await zip.file(name)!.async('nodebuffer'));
      expect([name, png.width, png.height]).toEqual([name, size, size]);
    }
  }, 30000);

  it('names each missing variable, exits non-zero and writes no zip', async () => {
    const run = await runPackage({ PUBLIC_URL: values.PUBLIC_URL, CLIENT_ID: values.CLIENT_ID });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('TEAMS_APP_ID: not set');
    expect(run.stderr).toContain('BOT_ID: not set');
    expect(run.stderr).not.toContain('CLIENT_ID');
    expect(fs.existsSync(zipPath)).toBe(false);
  }, 30000);
});
