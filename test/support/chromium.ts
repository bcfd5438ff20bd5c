/**
 * Headless Chromium for tests that check what a browser makes of a page (Debian's `chromium`
 * package; `.ci/run` installs it). Each call uses a fresh profile directory, so parallel runs
 * do not share a profile lock.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The browser's path (`CHROMIUM_PATH`, else `chromium` or `chromium-browser` on PATH), or undefined. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, 'chromium', 'chromium-browser'].filter(
    (candidate): candidate is string => !!candidate,
  );
  return candidates.find((candidate) => spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** Opens `file` headless and resolves to the DOM once the page has loaded (after its scripts ran). */
export function dumpDom(browser: string, file: string, timeoutMs = 60_000): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'arkor-chromium-'));
  return new Promise<string>((resolveDom, reject) => {
    const child = spawn(
      browser,
      [
        '--headless',
        '--disable-gpu',
        '--no-sandbox',
        '--no-first-run',
        '--disable-extensions',
        `--user-data-dir=${profile}`,
        '--window-size=1000,2000',
        '--dump-dom',
        pathToFileURL(file).href,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      if (code === 0 && stdout.trim() !== '') resolveDom(stdout);
      else reject(new Error(`chromium exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}
