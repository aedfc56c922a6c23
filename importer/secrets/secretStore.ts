import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { ImporterError } from '../errors';

/**
 * Where the TeleMessage password lives. Key Vault in Azure; locally AES-256-GCM with a key file.
 * Callers hold a secret's name, never its value longer than one request.
 */
export interface SecretStore {
  set(name: string, value: string, options?: { abortSignal?: AbortSignal }): Promise<void>;
  get(name: string, options?: { abortSignal?: AbortSignal }): Promise<string>;
  /** Where the secret is kept, for display: never the value. */
  describe(name: string): string;
}

export class KeyVaultSecretStore implements SecretStore {
  private readonly client: SecretClient;
  constructor(vaultUrl: string, credential: TokenCredential) {
    this.client = new SecretClient(vaultUrl, credential);
  }

  async set(name: string, value: string, options: { abortSignal?: AbortSignal } = {}): Promise<void> {
    await this.client.setSecret(name, value, { abortSignal: options.abortSignal, contentType: 'text/plain' });
  }

  async get(name: string, options: { abortSignal?: AbortSignal } = {}): Promise<string> {
    try {
      const secret = await this.client.getSecret(name, { abortSignal: options.abortSignal });
      if (secret.value === undefined) throw new Error('empty');
      return secret.value;
    } catch (err) {
      throw new ImporterError('SecretUnavailable', `The secret "${name}" could not be read from Key Vault (${(err as { code?: string }).code ?? 'error'}).`);
    }
  }

  describe(name: string): string {
    return `Key Vault ${new URL(this.client.vaultUrl).host}, secret "${name}"`;
  }
}

/** Encrypted values kept in a small store; for local runs, a JSON file next to the key. */
export interface CiphertextStore {
  read(name: string): Promise<string | undefined>;
  write(name: string, ciphertext: string): Promise<void>;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export class LocalSecretStore implements SecretStore {
  private readonly key: Buffer;

  /** Reads the 32-byte key from `keyFile`, creating it (mode 0600) on first use. */
  constructor(
    private readonly keyFile: string,
    private readonly ciphertexts: CiphertextStore = new JsonFileCiphertextStore(path.join(path.dirname(keyFile), 'secrets.json')),
  ) {
    this.key = loadOrCreateKey(keyFile);
  }

  async set(name: string, value: string): Promise<void> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    // The name is authenticated too, so a ciphertext cannot be moved to another name.
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    await this.ciphertexts.write(name, `${FORMAT}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`);
  }

  async get(name: string): Promise<string> {
    const stored = await this.ciphertexts.read(name);
    if (stored === undefined) throw new ImporterError('SecretUnavailable', `No secret named "${name}" is stored.`);
    const [format, payload] = stored.split('.', 2);
    const raw = Buffer.from(payload ?? '', 'base64');
    if (format !== FORMAT || raw.length < IV_BYTES + TAG_BYTES) throw corrupt(name);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw corrupt(name);
    }
  }

  describe(name: string): string {
    return `local encrypted store (AES-256-GCM, key ${path.basename(this.keyFile)}), secret "${name}"`;
  }
}

export class JsonFileCiphertextStore implements CiphertextStore {
  constructor(private readonly file: string) {}

  async read(name: string): Promise<string | undefined> {
    return this.all()[name];
  }

  async write(name: string, ciphertext: string): Promise<void> {
    const next = { ...this.all(), [name]: ciphertext };
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(next, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }

  private all(): Record<string, string> {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new ImporterError('SecretStoreCorrupt', `The local secret store ${path.basename(this.file)} cannot be read.`);
    }
  }
}

function loadOrCreateKey(keyFile: string): Buffer {
  if (!fs.existsSync(keyFile)) {
    fs.mkdirSync(path.dirname(keyFile), { recursive: true });
    try {
      fs.writeFileSync(keyFile, randomBytes(KEY_BYTES).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const key = Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new ImporterError('SecretStoreCorrupt', `The key file ${path.basename(keyFile)} does not hold a 256-bit key.`);
  return key;
}

function corrupt(name: string): ImporterError {
  return new ImporterError('SecretStoreCorrupt', `The stored secret "${name}" cannot be decrypted with this key.`);
}
