import fs from 'node:fs';
import path from 'node:path';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS } from '../../server/runtimeEnv';

// The worker image, read from the Dockerfile (no registry or Docker daemon here to build it): what
// a reviewer checks before it runs in Azure Container Apps (infra/main.bicep, worker).
const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const dockerfile = read('Dockerfile');
// Instructions, with continued lines joined and comments left out.
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const stages = instructions.join('\n').split(/\n(?=FROM )/);
const runtime = stages[stages.length - 1].split('\n');

describe('the worker image', () => {
  it('builds on Node.js 24, the runtime package.json asks for, in both stages', () => {
    const bases = instructions.filter((i) => i.startsWith('FROM ')).map((i) => i.split(/\s+/)[1]);
    expect(bases.length).toBe(2);
    for (const base of bases) expect(base).toMatch(/^node:24(-[a-z0-9-]+)?$/);
    expect((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node).toBe('>=24');
  });

  it('compiles in a build stage and ships the compiled output with production dependencies only', () => {
    expect(stages[0]).toMatch(/^RUN npm ci$/m);
    expect(stages[0]).toMatch(/^RUN npm run build$/m);
    expect(runtime).toContain('RUN npm ci --omit=dev && npm cache clean --force');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    // The lockfile and .npmrc (engine-strict) come along, so npm ci installs exactly what was tested.
    for (const stage of stages) expect(stage).toMatch(/^COPY package\.json package-lock\.json \.npmrc \.\/$/m);
    expect(runtime.filter((i) => /^COPY (?!--from=build|package\.json)/.test(i))).toEqual([]);
  });

  it('runs dist/server/worker.js as an unprivileged user, with the Node flags and allocator settings the server runs with', () => {
    const user = runtime.filter((i) => i.startsWith('USER '));
    expect(user).toEqual(['USER node']);
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.findIndex((i) => i.startsWith('CMD ')));
    const cmd = runtime.find((i) => i.startsWith('CMD '))!;
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', ...NODE_RUNTIME_FLAGS, 'dist/server/worker.js']);
    const env = Object.fromEntries(
      [
        ...runtime
          .filter((i) => i.startsWith('ENV '))
          .join(' ')
          .matchAll(/(\w+)=(\S+)/g),
      ].map((m) => [m[1], m[2]]),
    );
    expect(env).toEqual({ NODE_ENV: 'production', ...NODE_RUNTIME_ENV });
    // The worker answers nobody: no port, as the container app has no ingress.
    expect(instructions.filter((i) => i.startsWith('EXPOSE'))).toEqual([]);
  });

  it('keeps local secrets, state and installed packages out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const entry of ['.git', 'node_modules', 'dist', '.local', 'env', '.env', '**/*.user']) expect([entry, ignored.includes(entry)]).toEqual([entry, true]);
  });
});
