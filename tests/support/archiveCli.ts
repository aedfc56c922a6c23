// The archive CLI (cli/archive.ts) as a real child process, for tests that kill it, race two
// of them or read what it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'cli', 'archive.ts');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ArchiveProcess {
  child: ChildProcess;
  /** Settles when the process has exited, however it ended. */
  done: Promise<CliResult>;
}

/**
 * Starts `node --import tsx cli/archive.ts <args>` with the jest worker's environment (which
 * trusts the local CA) plus `env`: the harness's settings, nothing read from .local/. With
 * `nodeArgs` (say, Node flags and a compiled archive.js) those replace `--import tsx cli/archive.ts`.
 */
export function startArchiveCli(args: readonly string[], env: Record<string, string>, nodeArgs: readonly string[] = ['--import', 'tsx', SCRIPT]): ArchiveProcess {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runArchiveCli(args: readonly string[], env: Record<string, string>, nodeArgs?: readonly string[]): Promise<CliResult> {
  return startArchiveCli(args, env, nodeArgs).done;
}
