/**
 * The run report and the codec server against a real encrypted run (dev server, emulator,
 * worker with ARKOR_PAYLOAD_KEY's codec), through the CLI as users run it:
 *
 * - `report --html/--svg` reads the run's history with the key and writes a page that headless
 *   Chromium draws: one loss-path vertex per sample of the run's loss curve, each on the drawn
 *   stroke, and one marker per checkpoint, at its step and on the curve; without the key it
 *   says so. For a running run the report takes the live status, and without a worker the
 *   history alone.
 * - `codec-server` decodes a payload taken raw (still encrypted) from the run's history when
 *   called as the Web UI calls it (preflight with Origin, then POST /decode with X-Namespace),
 *   giving back the run's input; it refuses another origin and a request without the
 *   Authorization; the Temporal CLI's `--codec-endpoint` reads the history through it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { encryptionCodecFromEnv, type EncryptionCodec } from '../codec/encryption.js';
import type { RunResult } from '../contract/result.js';
import type { TrainingRunInput } from '../contract/input.js';
import { DEMO_QUESTIONS } from '../emulator/index.js';
import { ensureTemporalCli } from '../scripts/temporal-cli.js';
import { TrainingService } from '../service/index.js';
import type { RunReport } from '../cli/report/model.js';
import type { TestWorker } from '../testing/worker.js';
import { chromiumPath, dumpDom } from './support/chromium.js';
import { eventually, runClient, startHarness, trainingInput, type Harness } from './support/harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'arkor-report-'));
const PAYLOAD_KEY = `report:${randomBytes(32).toString('base64')}`;
const CODEC_AUTH = `Bearer ${randomBytes(12).toString('hex')}`;
const UI_ORIGIN = 'http://localhost:8233';
const browser = chromiumPath();

const prompts = DEMO_QUESTIONS.map((question) => ({
  name: question.prompt,
  messages: [{ role: 'user' as const, content: question.prompt }],
  expect: { contains: question.answer },
}));

/**
 * Appended to a copy of the report: what the browser made of the loss chart, as base64 JSON in
 * a `<pre id="probe">` of the dumped DOM. The geometry comes from the rendering engine.
 */
const PROBE = `<script>
(() => {
  const out = {};
  try {
    const svg = document.querySelector('svg.loss-chart');
    const path = svg.querySelector('path.loss');
    const point = (x, y) => new DOMPoint(x, y);
    const vertices = [...path.getAttribute('d').matchAll(/[ML]\\s*(-?[\\d.]+)[ ,](-?[\\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    out.vertices = vertices;
    out.onStroke = vertices.map(([x, y]) => path.isPointInStroke(point(x, y)));
    out.totalLength = path.getTotalLength();
    out.stroke = getComputedStyle(path).stroke;
    const box = svg.getBoundingClientRect();
    out.svgSize = [box.width, box.height];
    out.markers = [...svg.querySelectorAll('g.checkpoint')].map((g) => {
      const circle = g.querySelector('circle.checkpoint-marker');
      const x = circle.cx.baseVal.value;
      const y = circle.cy.baseVal.value;
      const bbox = circle.getBBox();
      return {
        step: Number(g.getAttribute('data-step')),
        score: g.getAttribute('data-score'),
        x,
        y,
        drawn: bbox.width > 0 && getComputedStyle(circle).display !== 'none',
        onCurve: path.isPointInStroke(point(x, y)),
      };
    });
    out.evalPoints = svg.querySelectorAll('circle.eval-point').length;
    out.svgs = document.querySelectorAll('svg').length;
    out.checkpointRows = document.querySelectorAll('table.checkpoints tbody tr[data-step]').length;
  } catch (error) {
    out.error = String(error);
  }
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = btoa(JSON.stringify(out));
  document.body.append(pre);
})();
</script>`;

interface Probe {
  error?: string;
  vertices: Array<[number, number]>;
  onStroke: boolean[];
  totalLength: number;
  stroke: string;
  svgSize: [number, number];
  markers: Array<{ step: number; score: string | null; x: number; y: number; drawn: boolean; onCurve: boolean }>;
  evalPoints: number;
  svgs: number;
  checkpointRows: number;
}

/** `client.ts codec-server` as a child process; resolves with its endpoint (its first line). */
function startCodecServerProcess(
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcessWithoutNullStreams }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'client.ts'), 'codec-server', '--port', '0'], {
    cwd: root,
    env: { ...process.env, ...env },
  });
  return new Promise((resolveStart, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) resolveStart({ url: line.trim(), child });
    });
    child.once('exit', (code) => reject(new Error(`codec-server exited ${code}: ${stderr}`)));
  });
}

/** A payload as the Web UI holds it: protobuf JSON from the server's HTTP API (bytes as base64). */
function webUiJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

describe('the run report and the codec server of an encrypted run', () => {
  let h: Harness;
  let worker: TestWorker;
  let codec: EncryptionCodec;
  let service: TrainingService;
  let input: TrainingRunInput;
  let result: RunResult;
  const workflowId = `report-run-${randomBytes(4).toString('hex')}`;
  const withKey = { ARKOR_PAYLOAD_KEY: PAYLOAD_KEY };

  before(async () => {
    const loaded = encryptionCodecFromEnv(withKey);
    assert.ok(loaded);
    codec = loaded;
    h = await startHarness();
    worker = await h.startWorker({ dataConverter: { payloadCodecs: [codec] } });
    const client = new Client({
      connection: h.temporal.client.connection,
      namespace: h.temporal.namespace,
      dataConverter: { payloadCodecs: [codec] },
    });
    service = new TrainingService(client, { taskQueue: h.taskQueue });
    input = trainingInput({
      trainer: { name: 'report-run-secret-name', maxSteps: 60, loggingSteps: 1, evalSteps: 10, saveSteps: 20 },
      smokeTest: { prompts },
      gate: { minScore: 0.5 },
      promotion: { deployment: 'report-bot', create: true },
      labels: { team: 'reports' },
    });
    await service.start(input, { workflowId });
    result = await service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
  });
  after(async () => h?.close());

  it('report --html/--svg: Chromium draws one loss vertex per curve sample and a marker per checkpoint', async (t) => {
    const html = join(dir, 'report.html');
    const svg = join(dir, 'loss.svg');
    const run = await runClient(h, ['report', workflowId, '--html', html, '--svg', svg], withKey);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      new RegExp(`^wrote ${html}: run ${workflowId} completed, 60 loss points, 6 eval points, 3 checkpoints$`, 'm'),
    );
    assert.equal(run.stderr, '');

    const status = result.status;
    assert.equal(status.lossCurve.length, 60);
    assert.deepEqual(
      status.checkpoints.map((checkpoint) => checkpoint.step),
      [20, 40, 60],
    );
    const page = readFileSync(html, 'utf8');
    assert.ok(page.includes('report-run-secret-name'), 'the decoded input name');
    assert.ok(page.includes('final adapter of job'), 'the promotion');

    if (!browser) {
      assert.ok(!process.env.CI, 'chromium is not installed (bash .ci/run installs it)');
      t.skip('chromium is not installed (bash .ci/run installs it)');
      return;
    }
    const probed = join(dir, 'probed.html');
    writeFileSync(probed, page.replace('</body>', `${PROBE}</body>`));
    const dom = await dumpDom(browser, probed);
    const encoded = /<pre id="probe">([A-Za-z0-9+/=]+)<\/pre>/.exec(dom)?.[1];
    assert.ok(encoded, `no probe output in the DOM:\n${dom.slice(-2000)}`);
    const probe = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Probe;
    assert.equal(probe.error, undefined);

    // The loss path: one vertex per sample of the run's curve, left to right, each on the stroke
    // the browser computed, styled by the page's CSS.
    assert.equal(probe.vertices.length, status.lossCurve.length);
    for (let index = 1; index < probe.vertices.length; index++)
      assert.ok(probe.vertices[index]![0] > probe.vertices[index - 1]![0], `vertex ${index} right of the previous`);
    assert.deepEqual(
      probe.onStroke.map((on, index) => (on ? -1 : index)).filter((index) => index >= 0),
      [],
      'vertices off the drawn stroke',
    );
    assert.ok(probe.totalLength > 100, `path length ${probe.totalLength}`);
    assert.equal(probe.stroke, 'rgb(37, 99, 235)');
    assert.ok(probe.svgSize[0] > 300 && probe.svgSize[1] > 150, `chart size ${probe.svgSize.join('x')}`);
    // The loss falls, and SVG's y grows downwards: the curve ends lower than it starts.
    assert.ok(probe.vertices.at(-1)![1] > probe.vertices[0]![1]);

    // The checkpoint markers: the run's checkpoints, with their scores, each at the x of the
    // curve's sample at its step, drawn on the curve.
    assert.deepEqual(
      probe.markers.map((marker) => [marker.step, Number(marker.score)]),
      status.checkpoints.map((checkpoint) => [checkpoint.step, checkpoint.score]),
    );
    for (const marker of probe.markers) {
      const sample = status.lossCurve.findIndex(([step]) => step === marker.step);
      assert.ok(sample >= 0, `a loss sample at step ${marker.step}`);
      // The browser holds lengths as 32-bit floats.
      assert.ok(Math.abs(marker.x - probe.vertices[sample]![0]) < 0.01, `checkpoint ${marker.step} x ${marker.x}`);
      assert.ok(Math.abs(marker.y - probe.vertices[sample]![1]) < 0.01, `checkpoint ${marker.step} y ${marker.y}`);
      assert.ok(marker.drawn && marker.onCurve, `checkpoint ${marker.step} drawn on the curve`);
    }
    assert.equal(probe.evalPoints, 6);
    assert.equal(probe.svgs, 3, 'loss, scores and timeline charts');
    assert.equal(probe.checkpointRows, 3);

    // The chart alone is an SVG document the browser parses (no XML errors) and draws.
    const svgDom = await dumpDom(browser, svg);
    assert.ok(!svgDom.includes('parsererror'), svgDom.slice(0, 2000));
    assert.equal((svgDom.match(/<g class="checkpoint[^"]*" data-step=/g) ?? []).length, 3);
    assert.equal(/<path class="loss" d="([^"]*)"/.exec(svgDom)?.[1]?.match(/[ML]/g)?.length, 60);
  });

  it('report --json has the run from its result; without the key it says which variable is missing', async () => {
    const run = await runClient(h, ['report', workflowId, '--json'], withKey);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as RunReport;
    assert.equal(report.statusSource, 'result');
    assert.equal(report.outcome, 'completed');
    assert.deepEqual(report.status, result.status);
    assert.deepEqual(
      report.evalCurve.map(([step]) => step),
      [10, 20, 30, 40, 50, 60],
    );
    assert.equal(report.gate?.minScore, 0.5);
    assert.equal(report.status.gate?.passed, true);
    assert.deepEqual(report.status.promotion?.after, {
      kind: 'adapter',
      adapter: { kind: 'final', jobId: result.jobId },
    });
    const phases = report.phases.map((span) => span.phase);
    assert.deepEqual(phases, ['submitting', 'queued', 'running', 'evaluating', 'promoting', 'completed']);
    assert.equal(report.eventsDelivered, result.status.eventsReceived);

    const noKey = await runClient(h, ['report', workflowId, '--json'], { ARKOR_PAYLOAD_KEY: '' });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /^error: the run's payloads are encrypted: set ARKOR_PAYLOAD_KEY/);
    const unknown = await runClient(h, ['report', 'no-such-run', '--json'], withKey);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no run with workflow id no-such-run/);
  });

  it('codec-server decodes a raw history payload posted as the Web UI does; refuses other origins and no auth', async () => {
    const { url, child } = await startCodecServerProcess({ ...withKey, ARKOR_CODEC_AUTH: CODEC_AUTH });
    try {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      // The run's input as the server stores it: encrypted.
      const history = await h.temporal.client.workflow.getHandle(workflowId).fetchHistory();
      const raw = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      assert.ok(raw);
      assert.equal(Buffer.from(raw.metadata?.encoding ?? []).toString(), 'binary/encrypted');
      const body = JSON.stringify({ payloads: [webUiJson(raw)] });
      const headers = {
        'Content-Type': 'application/json',
        'X-Namespace': h.temporal.namespace,
        Authorization: CODEC_AUTH,
        Origin: UI_ORIGIN,
      };

      // The browser's preflight for a cross-origin POST with these headers.
      const preflight = await fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: UI_ORIGIN,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), UI_ORIGIN);
      assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
      const decoded = await fetch(`${url}/decode`, { method: 'POST', headers, body });
      assert.equal(decoded.status, 200);
      assert.equal(decoded.headers.get('access-control-allow-origin'), UI_ORIGIN);
      const [payload] = (
        (await decoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }
      ).payloads;
      assert.ok(payload);
      assert.equal(Buffer.from(payload.metadata.encoding ?? '', 'base64').toString(), 'json/plain');
      assert.deepEqual(
        JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')),
        JSON.parse(JSON.stringify(input)),
      );

      // Encoding goes the other way: what it encrypts, the workers' codec decrypts.
      const plain = defaultPayloadConverter.toPayload({ hello: 'ui' });
      const encoded = await fetch(`${url}/encode`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ payloads: [webUiJson(plain)] }),
      });
      const [cipher] = (
        (await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }
      ).payloads;
      const back = await codec.decode([
        {
          metadata: Object.fromEntries(Object.entries(cipher!.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
          data: Buffer.from(cipher!.data, 'base64'),
        },
      ]);
      assert.deepEqual(defaultPayloadConverter.fromPayload(back[0]!), { hello: 'ui' });

      // Another origin: the preflight gets no CORS headers (the browser refuses), the request 403.
      const evil = 'https://evil.example';
      const refusedPreflight = await fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: { Origin: evil, 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(refusedPreflight.status, 403);
      assert.equal(refusedPreflight.headers.get('access-control-allow-origin'), null);
      const refused = await fetch(`${url}/decode`, { method: 'POST', headers: { ...headers, Origin: evil }, body });
      assert.equal(refused.status, 403);
      assert.equal(refused.headers.get('access-control-allow-origin'), null);
      // No Authorization: 401, and nothing decoded.
      const { Authorization: _auth, ...noAuth } = headers;
      const unauthorized = await fetch(`${url}/decode`, { method: 'POST', headers: noAuth, body });
      assert.equal(unauthorized.status, 401);
      assert.ok(!(await unauthorized.text()).includes('report-run-secret-name'));

      // The Temporal CLI reads the history through it (`--codec-endpoint`, `--codec-auth`).
      const temporal = await ensureTemporalCli();
      const show = (extra: string[]) =>
        spawnSync(
          temporal,
          [
            'workflow',
            'show',
            '--workflow-id',
            workflowId,
            '--address',
            h.temporal.address,
            '--namespace',
            h.temporal.namespace,
            '--output',
            'json',
            ...extra,
          ],
          { encoding: 'utf8', timeout: 60_000 },
        );
      /** The run's input as `temporal workflow show -o json` prints it: encoding and value. */
      const shownInput = (run: ReturnType<typeof show>): { encoding: string; data: string } => {
        assert.equal(run.status, 0, run.stderr);
        const shown = JSON.parse(run.stdout) as {
          events: Array<{
            workflowExecutionStartedEventAttributes?: { input: { payloads: Array<ReturnType<typeof webUiJson>> } };
          }>;
        };
        const started = shown.events[0]?.workflowExecutionStartedEventAttributes?.input.payloads[0];
        assert.ok(started);
        return {
          encoding: Buffer.from(started.metadata.encoding ?? '', 'base64').toString(),
          data: Buffer.from(started.data, 'base64').toString('utf8'),
        };
      };
      const clear = shownInput(show(['--codec-endpoint', url, '--codec-auth', CODEC_AUTH]));
      assert.equal(clear.encoding, 'json/plain');
      assert.deepEqual(JSON.parse(clear.data), JSON.parse(JSON.stringify(input)));
      assert.equal(shownInput(show([])).encoding, 'binary/encrypted', 'without the codec the input stays encrypted');
    } finally {
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
      assert.equal(code, 0, 'codec-server exits 0 on SIGTERM');
    }
  });

  it('report of a running run: the live status query, then the history alone without a worker', async () => {
    const running = `report-running-${randomBytes(4).toString('hex')}`;
    // Long enough (100 s) to be still running after the worker stops, whatever the machine's load.
    await service.start(
      trainingInput({
        trainer: { name: 'report-running', maxSteps: 20_000, loggingSteps: 10, evalSteps: 50, saveSteps: 100 },
      }),
      { workflowId: running },
    );
    await eventually(async () => ((await service.status(running)).checkpoints.length >= 2 ? true : undefined), 60_000);
    const live = await runClient(h, ['report', running, '--json'], withKey);
    assert.equal(live.code, 0, live.stderr);
    const liveReport = JSON.parse(live.stdout) as RunReport;
    assert.equal(liveReport.statusSource, 'query');
    assert.equal(liveReport.execution, 'running');
    assert.ok(liveReport.status.checkpoints.length >= 2);

    await worker.stop();
    const html = join(dir, 'running.html');
    const offline = await runClient(h, ['report', running, '--json', '--html', html], withKey);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stderr, /^note: no worker answered the status query of run report-running-/);
    const report = JSON.parse(offline.stdout) as RunReport;
    assert.equal(report.statusSource, 'history');
    assert.equal(report.status.phase, 'running');
    assert.equal(report.status.jobId, liveReport.status.jobId);
    // The fold has at least what the live status had, the same way.
    assert.ok(report.status.step >= liveReport.status.step);
    assert.deepEqual(
      report.status.checkpoints.slice(0, liveReport.status.checkpoints.length).map((c) => c.step),
      liveReport.status.checkpoints.map((c) => c.step),
    );
    assert.ok(report.status.eventsReceived >= liveReport.status.eventsReceived);
    assert.ok(report.status.bestLoss!.value <= liveReport.status.bestLoss!.value);
    // The curve is folded as the workflow folds it: bounded, in step order, up to the last step.
    assert.ok(report.lossCurve.length <= 200);
    assert.ok(report.lossCurve.every(([step], index) => index === 0 || step > report.lossCurve[index - 1]![0]));
    assert.equal(report.lossCurve.at(-1)?.[0], report.status.step);
    assert.match(readFileSync(html, 'utf8'), /No worker answered the status query/);
  });
});
