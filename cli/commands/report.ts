/**
 * `report <workflow-id>`: reads the run's history (cli/report/history.ts), builds its report
 * (cli/report/model.ts) and writes it as HTML (`--html`), the loss chart as SVG (`--svg`) or the
 * data as JSON (`--json`, on stdout). The status query is asked only for a run without a result,
 * and only when a worker polls the run's task queue; otherwise the history alone makes the report.
 */
import { writeFileSync } from 'node:fs';
import type { ReportCommand } from '../program.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { missingWorker } from '../worker-check.js';
import { lossChartSvg } from '../report/chart.js';
import { readRunRecord } from '../report/history.js';
import { reportHtml } from '../report/html.js';
import { buildRunReport, type RunReport } from '../report/model.js';

export async function runReport(ctx: CommandContext, command: ReportCommand): Promise<ExitCode> {
  const { client, workers, io } = ctx;
  if (!client) throw new Error('the report reads the run’s history and needs a Temporal client');
  let queryStatus = true;
  if (workers) {
    const { taskQueue } = await workers.describeRun(command.workflowId);
    queryStatus = (await missingWorker(workers, taskQueue)) === undefined;
  }
  const record = await readRunRecord(client, command.workflowId, { queryStatus });
  const report = buildRunReport(record);
  if (command.html !== undefined) {
    writeFileSync(command.html, reportHtml(report));
    if (!command.json) io.stdout(`wrote ${command.html}: ${describe(report)}\n`);
  }
  if (command.svg !== undefined) {
    writeFileSync(command.svg, `${lossChartSvg(report)}\n`);
    if (!command.json) io.stdout(`wrote ${command.svg}: the loss chart\n`);
  }
  if (command.json) io.stdout(`${JSON.stringify(report)}\n`);
  if (report.statusSource === 'history')
    io.stderr(
      `note: no worker answered the status query of run ${command.workflowId}: the report is built from its history ` +
        'alone (no scores, gate or promotion)\n',
    );
  return ExitCode.Ok;
}

/** One line about what the report holds. */
function describe(report: RunReport): string {
  const { status } = report;
  return (
    `run ${report.workflowId} ${report.outcome ?? status.phase}, ${report.lossCurve.length} loss points, ` +
    `${report.evalCurve.length} eval points, ${status.checkpoints.length} checkpoints`
  );
}
