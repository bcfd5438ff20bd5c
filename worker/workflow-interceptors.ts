/**
 * The workflow interceptors of every bundle (worker/bundle.ts `workflowInterceptorModules`): the
 * OpenTelemetry ones of `@temporalio/interceptors-opentelemetry` (README "Tracing"), so that a
 * run and the activities it schedules are spans of the trace its start carried. They run in the
 * workflow sandbox; their spans leave it through the worker's `exporter` sink, which drops them
 * when the worker traces nothing (worker/create-worker.ts).
 *
 * One change: an update is handed straight to its handler, as without interceptors, until the
 * run's history has the SDK flag under which the package traces updates. The package's own
 * pass-through is an `async` method, whose extra promise ticks let the main workflow code emit
 * its next command before the update completes: the runs recorded before tracing existed
 * (test/fixtures/histories) would no longer replay.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type {
  Next,
  UpdateInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { SdkFlags } from '@temporalio/workflow/lib/flags.js';
import { getActivator } from '@temporalio/workflow/lib/global-attributes.js';

class InboundInterceptor extends OpenTelemetryInboundInterceptor {
  override handleUpdate(
    input: UpdateInput,
    next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>,
  ): Promise<unknown> {
    if (!getActivator().hasFlag(SdkFlags.OpenTelemetryInterceptorsInstrumentsAllMethods)) return next(input);
    return super.handleUpdate(input, next);
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new InboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
