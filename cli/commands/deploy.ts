/** `deploy <sub>`: a worker deployment's versions, where new runs start, and what is still pinned where. */
import type { DeploymentVersionView, DeploymentView } from '../../service/deployments.js';
import type { DeployCommand } from '../program.js';
import type { CommandContext, DeploymentOps } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { table } from './schedule.js';

export async function runDeploy(
  ctx: CommandContext,
  command: DeployCommand,
  deploymentName: string,
): Promise<ExitCode> {
  const { io } = ctx;
  const deployments = requireDeployments(ctx, deploymentName);
  switch (command.kind) {
    case 'deploy-status': {
      const view = await deployments.describe();
      io.stdout(command.json ? `${JSON.stringify(view)}\n` : formatDeployment(view));
      return ExitCode.Ok;
    }
    case 'deploy-set-current': {
      const { previousBuildId } = await deployments.setCurrent(command.buildId);
      io.stdout(
        `${command.buildId} is the current version of ${deploymentName}` +
          (previousBuildId && previousBuildId !== command.buildId
            ? `; runs pinned to ${previousBuildId} finish there or move at their next continue-as-new ` +
              `(\`deploy status\` counts them)\n`
            : '\n'),
      );
      return ExitCode.Ok;
    }
    case 'deploy-ramp':
      await deployments.ramp(command.buildId, command.percent);
      io.stdout(`${command.buildId} takes ${command.percent}% of the new runs of ${deploymentName}\n`);
      return ExitCode.Ok;
    case 'deploy-unramp':
      await deployments.unramp();
      io.stdout(`no ramp: every new run of ${deploymentName} starts on its current version\n`);
      return ExitCode.Ok;
  }
}

function requireDeployments(ctx: CommandContext, deploymentName: string): ReturnType<DeploymentOps> {
  if (!ctx.deployments) throw new Error('worker deployments are not available with this connection');
  return ctx.deployments(deploymentName);
}

/** The `status` view: routing, then one row per version with its pinned runs and what to do about it. */
export function formatDeployment(view: DeploymentView): string {
  const lines = [
    `deployment  ${view.name}`,
    `current     ${view.currentBuildId ?? '– (none: new runs wait for a current version)'}`,
    `ramping     ${view.ramping ? `${view.ramping.buildId} at ${view.ramping.percent}%` : '–'}`,
  ];
  const head = `${lines.join('\n')}\n\n`;
  if (view.versions.length === 0) return `${head}no versions\n`;
  const rows = view.versions.map((version) => [
    version.buildId,
    version.status,
    String(version.pinnedRunning),
    version.createdAt?.toISOString() ?? '–',
    advice(version),
  ]);
  return `${head}${table(['BUILD ID', 'STATUS', 'PINNED RUNS', 'CREATED', ''], rows)}`;
}

/** What the operator may do with a version's workers. */
function advice(version: DeploymentVersionView): string {
  if (version.status === 'current' || version.status === 'ramping') return 'takes new runs';
  if (version.pinnedRunning > 0) return 'keep its workers: runs are pinned to it';
  if (version.status === 'inactive') return 'never current: set-current or ramp routes new runs to it';
  // The server waits for visibility to show runs started just before the switch: its word is final.
  if (version.status === 'drained' || version.drainage === 'drained') return 'no runs left: its workers can stop';
  return 'no pinned run counted: stop its workers once it shows drained';
}
