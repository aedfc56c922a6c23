import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const PRODUCT = ['importer', 'bot', 'tab', 'server', 'cli', 'phone'];

function sources(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(full);
    return /\.(ts|tsx|js|mjs|cjs)$/.test(e.name) ? [full] : [];
  });
}

/** The project's files that `file` imports, relative to the root ('phone/phoneNumber', say). */
function localImports(file: string): { spec: string; target: string }[] {
  return imports(file)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => ({
      spec,
      target: path
        .relative(ROOT, path.resolve(path.dirname(file), spec))
        .split(path.sep)
        .join('/'),
    }));
}

function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)['"]([^'"]+)['"]/g)) found.push(m[1]);
  return found;
}

describe('architecture', () => {
  const productFiles = PRODUCT.flatMap((d) => sources(path.join(ROOT, d)));

  it('has product code to check', () => {
    expect(productFiles.length).toBeGreaterThan(0);
  });

  it('product code never imports the emulators: it reaches them only through configured URLs', () => {
    const offenders = productFiles.flatMap((file) =>
      imports(file)
        .filter((spec) => spec.startsWith('.') && path.resolve(path.dirname(file), spec).startsWith(path.join(ROOT, 'emulators')))
        .map((spec) => `${path.relative(ROOT, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps every bot SDK import inside bot/', () => {
    const offenders = productFiles
      .filter((file) => !file.startsWith(path.join(ROOT, 'bot') + path.sep))
      .flatMap((file) =>
        imports(file)
          .filter((spec) => /^(@microsoft\/agents-|@microsoft\/teams\.|botbuilder)/.test(spec))
          .map((spec) => `${path.relative(ROOT, file)} imports ${spec}`),
      );
    expect(offenders).toEqual([]);
  });

  it('uses no botbuilder anywhere: Microsoft no longer supports it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies?: object; devDependencies?: object };
    expect(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((name) => name.startsWith('botbuilder'))).toEqual([]);
    const offenders = [...productFiles, ...sources(path.join(ROOT, 'tests')), ...sources(path.join(ROOT, 'scripts')), ...sources(path.join(ROOT, 'bench'))].flatMap((file) =>
      imports(file)
        .filter((spec) => /^botbuilder/.test(spec))
        .map((spec) => `${path.relative(ROOT, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('reaches the importer only through its front door (importer/index.ts): the server, the bot, the tab and the CLI', () => {
    // bench/ measures single internal parts (the ZIP collector, the mapping diff) directly, as unit tests do.
    const callers = [...productFiles, ...sources(path.join(ROOT, 'scripts'))].filter((file) => !file.startsWith(path.join(ROOT, 'importer') + path.sep));
    expect(callers.length).toBeGreaterThan(0);
    const offenders = callers.flatMap((file) =>
      imports(file)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => ({ spec, target: path.relative(ROOT, path.resolve(path.dirname(file), spec)) }))
        .filter(({ target }) => target.startsWith('importer' + path.sep))
        .map(({ spec }) => `${path.relative(ROOT, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it("keeps the tab's API on the importer's public API, and the page off the server side", () => {
    const tabFiles = sources(path.join(ROOT, 'tab'));
    expect(tabFiles.length).toBeGreaterThan(0);
    const offenders = tabFiles.flatMap((file) =>
      imports(file)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => ({ spec, target: path.relative(ROOT, path.resolve(path.dirname(file), spec)) }))
        .filter(({ target }) => {
          const inApi = file.startsWith(path.join(ROOT, 'tab', 'api') + path.sep);
          // The API reaches the importer only through importer/index.ts; the page and the shared schemas reach none of the server side.
          if (inApi) return /^(bot|server)(\/|$)/.test(target) || (target.startsWith('importer') && target !== 'importer');
          return /^(importer|bot|server|tab\/api)(\/|$)/.test(target);
        })
        .map(({ spec }) => `${path.relative(ROOT, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it("checks every answer of the tab's API against the shapes the page reads (tab/shared/apiResponses.ts)", () => {
    const apiFiles = sources(path.join(ROOT, 'tab', 'api'));
    const answers = apiFiles.flatMap((file) => [...fs.readFileSync(file, 'utf8').matchAll(/res\.json\(2\d\d,[^;]*;/g)].map((m) => ({ file: path.relative(ROOT, file), text: m[0] })));
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.filter((a) => !a.text.includes(' satisfies ')).map((a) => `${a.file}: ${a.text}`)).toEqual([]);
  });

  it('reads and shows phone numbers only through the phone module (phone/): no other product file imports libphonenumber-js', () => {
    const inPhone = (file: string) => file.startsWith(path.join(ROOT, 'phone') + path.sep);
    expect(productFiles.filter(inPhone).length).toBeGreaterThan(0);
    const offenders = productFiles
      .filter((file) => !inPhone(file))
      .flatMap((file) =>
        imports(file)
          .filter((spec) => /^libphonenumber-js(\/|$)/.test(spec))
          .map((spec) => `${path.relative(ROOT, file)} imports ${spec}`),
      );
    expect(offenders).toEqual([]);
    // The ground floor: the phone module imports nothing of the project.
    const upward = productFiles.filter(inPhone).flatMap((file) =>
      localImports(file)
        .filter(({ target }) => !target.startsWith('phone/'))
        .map(({ spec }) => `${path.relative(ROOT, file)} imports ${spec}`),
    );
    expect(upward).toEqual([]);
  });

  it("keeps the tab's page on the phone module's display half, so its chunks carry libphonenumber's small metadata only", () => {
    const pageFiles = [...sources(path.join(ROOT, 'tab', 'web')), ...sources(path.join(ROOT, 'tab', 'shared'))];
    const offenders = pageFiles.flatMap((file) =>
      localImports(file)
        .filter(({ target }) => target.startsWith('phone/') && target !== 'phone/phoneDisplay')
        .map(({ spec }) => `${path.relative(ROOT, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it("keeps the per-item mapping (importer/mapping/item/) and the mapping administration (importer/mapping/admin/) out of each other's files", () => {
    const room = (file: string, name: string) => file.startsWith(path.join(ROOT, 'importer', 'mapping', name) + path.sep);
    const item = productFiles.filter((f) => room(f, 'item'));
    const admin = productFiles.filter((f) => room(f, 'admin'));
    expect(item.length).toBeGreaterThan(0);
    expect(admin.length).toBeGreaterThan(0);
    const crossing = (files: string[], other: string) =>
      files.flatMap((file) =>
        localImports(file)
          .filter(({ target }) => target.startsWith(`importer/mapping/${other}/`))
          .map(({ spec }) => `${path.relative(ROOT, file)} imports ${spec}`),
      );
    expect([...crossing(item, 'admin'), ...crossing(admin, 'item')]).toEqual([]);
  });
});
