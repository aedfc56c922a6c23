import { posix } from 'node:path';
import { quoteName, type ZipEntryHeader } from './zipArchive';
import { ZipRejection } from './zipRejection';

/** The manifest (`.mf`) TeleMessage puts in each ZIP: its `Count:` and the EML files it lists. */
export interface Manifest {
  count: number;
  names: string[];
}

/**
 * Smarsh documents a `Count:` value and a list of the EML file names, not the exact layout. Read
 * tolerantly: `Count: <n>` on a line of its own (any case), every other line ending in `.eml` a file
 * name as written; other lines (a date, a title) are ignored.
 */
export function parseManifest(bytes: Buffer): Manifest {
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (text.includes('\uFFFD')) throw new ZipRejection('ManifestUnreadable', 'The manifest is not UTF-8 text.');
  let count: number | undefined;
  const names: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const counted = line.match(/^count\s*:\s*(\S*)$/i);
    if (counted) {
      if (count !== undefined) throw new ZipRejection('ManifestUnreadable', 'The manifest has more than one Count: line.');
      if (!/^\d{1,9}$/.test(counted[1])) throw new ZipRejection('ManifestUnreadable', `The manifest's Count: value ${quoteName(counted[1])} is not a number.`);
      count = Number(counted[1]);
    } else if (/\.eml$/i.test(line)) {
      names.push(line);
    }
  }
  if (count === undefined) throw new ZipRejection('ManifestUnreadable', 'The manifest has no Count: line.');
  return { count, names };
}

export function isEml(entry: ZipEntryHeader): boolean {
  return !entry.isDirectory && /\.eml$/i.test(entry.name);
}

export function isManifest(entry: ZipEntryHeader): boolean {
  return !entry.isDirectory && /\.mf$/i.test(entry.name);
}

/** The one manifest entry: a ZIP with none, or with several, is refused. */
export function findManifest(entries: readonly ZipEntryHeader[]): ZipEntryHeader {
  const manifests = entries.filter(isManifest);
  if (manifests.length === 0) throw new ZipRejection('NoManifest', 'The ZIP has no manifest (.mf) file.');
  if (manifests.length > 1) throw new ZipRejection('SeveralManifests', `The ZIP has ${manifests.length} manifest (.mf) files; TeleMessage writes one.`);
  return manifests[0];
}

/**
 * The receiver's checks Smarsh documents: the Count: equals the files listed and the EML files in
 * the ZIP, every listed file is there under the same name, none is zero bytes; and we add that no
 * EML is there unlisted. Names are relative to the manifest's folder, where TeleMessage zips them.
 * Returns the EML entries in the order of the manifest.
 */
export function checkAgainstManifest(manifestEntry: ZipEntryHeader, manifest: Manifest, entries: readonly ZipEntryHeader[]): ZipEntryHeader[] {
  const folder = posix.dirname(manifestEntry.name);
  const inFolder = (name: string) => (folder === '.' ? name : `${folder}/${name}`);
  const emls = new Map(entries.filter(isEml).map((e) => [e.name, e]));
  if (manifest.count !== manifest.names.length) {
    throw new ZipRejection('CountMismatch', `The manifest says Count: ${manifest.count} but lists ${manifest.names.length} files.`);
  }
  const listed = new Set<string>();
  const ordered: ZipEntryHeader[] = [];
  for (const name of manifest.names) {
    // The line as written; else, since the layout is undocumented, without a "File:" label or a "1." number.
    const full = [name, name.replace(/^[^:]{1,40}:\s*/, ''), name.replace(/^\d{1,9}[.)]\s+/, '')].map(inFolder).find((n) => emls.has(n)) ?? inFolder(name);
    if (listed.has(full)) throw new ZipRejection('CountMismatch', `The manifest lists ${quoteName(name)} twice.`);
    listed.add(full);
    const entry = emls.get(full);
    if (!entry) throw new ZipRejection('ListedFileMissing', `The manifest lists ${quoteName(name)}, which is not in the ZIP.`);
    if (entry.uncompressedSize === 0) throw new ZipRejection('ZeroByteFile', `${quoteName(name)} is a zero-byte file.`);
    ordered.push(entry);
  }
  const unlisted = [...emls.keys()].find((name) => !listed.has(name));
  if (unlisted !== undefined) throw new ZipRejection('UnlistedFile', `The ZIP holds ${quoteName(unlisted)}, which the manifest does not list.`);
  if (manifest.count !== emls.size) {
    throw new ZipRejection('CountMismatch', `The manifest says Count: ${manifest.count} but the ZIP holds ${emls.size} EML files.`);
  }
  return ordered;
}
