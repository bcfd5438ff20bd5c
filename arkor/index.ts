/**
 * Our client of the Arkor cloud-api (protocol: docs/arkor-protocol.md): typed routes,
 * the job event follower with the SDK's reconnect semantics, chat helpers and credentials.
 */
export { ARKOR_CLIENT_HEADER, ARKOR_SDK_VERSION } from './version.js';
export {
  ArkorConfigError,
  ArkorResponseError,
  CloudApiError,
  StreamClosedError,
  StreamGaveUpError,
  JobGoneError,
  StreamIdleTimeoutError,
  isPermanentStreamStatus,
  isRetryableStatus,
  parseRetryAfterMs,
} from './errors.js';
export { parseJsonLenient, type LenientJsonResult } from './json.js';
export {
  JOB_EVENT_TYPES,
  JobEventSchema,
  decodeJobEvent,
  isTerminalJobEvent,
  type CheckpointSavedEvent,
  type DecodedJobEvent,
  type JobEvent,
  type JobEventType,
  type TrainingCompletedEvent,
  type TrainingFailedEvent,
  type TrainingLogEvent,
  type TrainingStartedEvent,
} from './events.js';
export {
  ChatAdapterSchema,
  ChatRequestSchema,
  DeploymentSchema,
  DeploymentTargetSchema,
  JOB_STATUSES,
  JobConfigSchema,
  TrainingJobSchema,
  type ChatAdapter,
  type ChatMessage,
  type ChatRequest,
  type CreateDeploymentRequest,
  type CreateJobRequest,
  type CreatedDeploymentKey,
  type DatasetSource,
  type Deployment,
  type DeploymentAuthMode,
  type DeploymentKey,
  type DeploymentTarget,
  type EdgeChatRequest,
  type JobConfig,
  type JobStatus,
  type Me,
  type Project,
  type TrainingJob,
  type UpdateDeploymentRequest,
} from './schemas.js';
export { readSseFrames, type SseFrame } from './sse.js';
export { DEFAULT_RECONNECT_POLICY, reconnectDelayMs, resolveReconnectPolicy, type ReconnectPolicy } from './backoff.js';
export {
  ArkorClient,
  DEFAULT_DEPLOYMENT_URL_TEMPLATE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  deprecationFromHeaders,
  type ArkorConnection,
  type ArkorScope,
  type DeprecationNotice,
  type RawRequestOptions,
} from './client.js';
export { readChatText } from './chat.js';
export {
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  followJobEvents,
  type FollowJobEventsOptions,
  type StreamItem,
} from './stream.js';
export {
  DEFAULT_CLOUD_API_URL,
  projectSlugFromDirectory,
  resolveArkorConnection,
  type ResolveConnectionOptions,
} from './credentials.js';
