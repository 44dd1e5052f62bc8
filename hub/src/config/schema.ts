// The hub's configuration: every setting, its default, and its kind (what
// validate.ts checks a value against).
import type { TrustProxy } from '../engine/index.js';
import { DEFAULT_LIMITS } from '@sitehub/protocol/iot';

/** Everything createHub() needs; every field has a safe default (see DEFAULT_CONFIG). */
export interface HubConfig {
  /** Folder for the database and the admin token file. */
  dataDir: string;
  /** Database file; relative paths are inside dataDir. */
  databaseFile: string;
  /** TCP port (0 picks a free one). */
  port: number;
  /** Where to listen: `localhost` (the default: 127.0.0.1 and ::1, loopback only), an address, a host name, or several separated by commas; `0.0.0.0` or `::` opens the hub to the network. */
  host: string;
  /** Admin token for the REST API and /console; when unset, one is generated on first start and kept in dataDir. */
  adminToken: string | undefined;
  /** With a key, an unknown device that presents it may register itself on first connect. */
  enrollmentKey: string | undefined;
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  logLevel: string;
  /** Telemetry, events, state history and presence history older than this are pruned. */
  retentionDays: number;
  /** How often retention runs, in ms. */
  pruneIntervalMs: number;
  /** How long bridges can resume from a stream position, in ms; 0 means as long as retentionDays. */
  streamRetentionMs: number;
  /** Largest Socket.IO message a client may send, in bytes (socket.io's default). A larger one closes the connection (WebSocket 1009, polling 413). */
  maxMessageBytes: number;
  /** Most readings in one telemetry event. */
  maxReadingsPerBatch: number;
  /** Most keys in one reading's values (and in one state update). */
  maxValuesPerReading: number;
  /** Largest JSON size of one reading's values, state update or event, in bytes. */
  maxRecordBytes: number;
  /** How far in the future a device timestamp may be, in ms (clock skew allowance). */
  maxClockSkewMs: number;
  /** Milliseconds a device has to answer a command before it is sent again. */
  commandAckTimeoutMs: number;
  /** Sends of a command (first one included) before it is marked failed. */
  commandMaxAttempts: number;
  /** Default lifetime of a command, in ms, after which an undelivered one expires. */
  commandTtlMs: number;
  /** Most jobs one group commit takes. */
  writerMaxBatch: number;
  /** Heartbeat interval, ms (Engine.IO pingInterval). */
  pingIntervalMs: number;
  /** Heartbeat timeout, ms (Engine.IO pingTimeout). */
  pingTimeoutMs: number;
  // --- TLS (see docs/security.md) ---
  /** PEM certificate chain file; with tlsKey, the hub serves HTTPS and WSS on its port. */
  tlsCert: string | undefined;
  /** PEM private key file of tlsCert. */
  tlsKey: string | undefined;
  /** PEM file of the CA certificates that sign client (device) certificates; needed by tlsClientAuth. */
  tlsCa: string | undefined;
  /** Client certificates: off, optional (checked when presented), devices (required on /devices/*), required (every TLS connection). */
  tlsClientAuth: TlsClientAuth;
  // --- Authentication: cookie origins, credential throttling and bans (docs/security.md) ---
  /** Origins (`scheme://host[:port]`) besides the hub's own whose pages may use the console session cookie on /api and /console. */
  allowedOrigins: string[];
  /** Window over which failed authentications are counted per client address and per device id, ms. */
  authFailureWindowMs: number;
  /** Failures within the window after which a client address or device id gets one credential check per authThrottleIntervalMs. */
  authThrottleAfter: number;
  /** While throttled, the least time between two credential checks of one address or device id, ms. */
  authThrottleIntervalMs: number;
  /** Failures within the window (attempts refused by the throttle included) that ban the address or device id. */
  authBanAfter: number;
  /** How long a ban lasts, ms. */
  authBanMs: number;
  /** Most failing addresses and device ids (and known-good device addresses) remembered; the least recent are forgotten first. */
  authTrackedMax: number;

  // --- Connection limits (docs/security.md, "Connection limits") ---
  /** Proxies whose X-Forwarded-For / X-Forwarded-Proto to believe: false, true, or their addresses / CIDR ranges (comma-separated). */
  trustProxy: TrustProxy;
  /** Accept Engine.IO v3 / Socket.IO v2 clients (older embedded libraries); they authenticate with the same checks, their credentials in the CONNECT namespace's query (docs/client.md). */
  allowEio3: boolean;
  /** Most open TCP connections to the hub; 0 for no limit. */
  maxConnections: number;
  /** Most open TCP connections from one address (trusted proxies exempt); 0 for no limit. */
  maxConnectionsPerAddress: number;
  /** Most open Engine.IO sessions; further handshakes get 503. 0 for no limit. */
  maxSessions: number;
  /** Most open Engine.IO sessions from one client address; further handshakes get 429. 0 for no limit. */
  maxSessionsPerAddress: number;
  /** Handshakes per second one client address may sustain; above it 429. 0 for no limit. */
  handshakeRatePerAddress: number;
  /** Handshakes one client address may make in a burst before the rate applies. */
  handshakeBurstPerAddress: number;
  /** Milliseconds a new session has to join a namespace (Socket.IO CONNECT) before it is closed. */
  connectTimeoutMs: number;
  /** Most WebSocket upgrades taken per event-loop lap in a reconnect storm (the rest wait for the next laps); 0 for no limit. */
  upgradesPerTurn: number;
  /** Most Socket.IO CONNECTs started per event-loop lap in a reconnect storm (the rest wait for the next laps); 0 for no limit. */
  connectsPerTurn: number;
  /** Milliseconds a binary packet's attachments may take to arrive before the connection is closed. */
  attachmentTimeoutMs: number;
  /** Milliseconds a client has to send an HTTP request's headers. */
  headersTimeoutMs: number;
  /** Milliseconds a client has to send a whole HTTP request, body included. */
  requestTimeoutMs: number;
  /** Milliseconds an idle keep-alive HTTP connection is kept open. */
  keepAliveTimeoutMs: number;

  // The database (docs/scaling.md, "Choosing a database").
  /** `sqlite` (the file databaseFile in dataDir) or a `postgres://user:password@host:port/db` URL, for a database several hubs share. */
  database: string;
  /** PostgreSQL: most connections this hub opens. */
  databasePoolMax: number;
  /** PostgreSQL: server-side limit on one statement, ms. */
  databaseStatementTimeoutMs: number;
  /** PostgreSQL: longest wait for a connection, ms. */
  databaseConnectTimeoutMs: number;

  // Files (docs/api.md, "Files").
  /** Largest file an operator or a device may upload, bytes. */
  fileMaxBytes: number;
  /** Bytes per chunk of a transfer (below maxMessageBytes). */
  fileChunkBytes: number;
  /** Chunks the hub grants an uploading device at a time, and the most it sends ahead when a device grants more. */
  fileWindowChunks: number;
  /** Most bytes of stored uploads per device; further uploads are refused (file_quota). */
  fileDeviceQuotaBytes: number;
  /** Most bytes of stored files in all; further uploads are refused (file_quota). */
  fileStoreQuotaBytes: number;
  /** Stored files older than this are deleted once their deliveries are finished, days. */
  fileRetentionDays: number;
  // Several nodes (docs/scaling.md).
  /** A `redis://` URL: this hub is one node of a cluster sharing that Redis (and a PostgreSQL `database`). */
  redis: string | undefined;
  /** This node's id in presence, /metrics and /readyz; keep it the same across restarts so a restarted node releases what it held. Default: random. */
  nodeId: string | undefined;
  /** How the other nodes reach this one (`http://10.0.0.11:3000`): with it, a polling request that reaches the wrong node is forwarded to the node holding its session, so the balancer needs no affinity. */
  advertiseUrl: string | undefined;
  // Alarms and rules (docs/api.md, "Alarms and rules").
  /** An http(s) URL that each alarm change is POSTed to as JSON; unset for none. */
  alarmWebhookUrl: string | undefined;
  /** Tries of one webhook delivery (the first included) before it is dropped. */
  alarmWebhookAttempts: number;
  /** Longest wait for the webhook's answer, ms. */
  alarmWebhookTimeoutMs: number;
  /** Most alarm changes waiting for the webhook; the oldest are dropped (and counted) beyond it. */
  alarmWebhookQueueMax: number;
  /** How often silence rules are checked, ms. */
  alarmSilenceCheckMs: number;
  /** How often the rules are read again from the database (rules changed through another hub sharing it), ms. */
  alarmRulesRefreshMs: number;
  /** Most alarm rules. */
  maxAlarmRules: number;
}

/** Who must present a client certificate signed by tlsCa (see docs/security.md, "mTLS"). */
export type TlsClientAuth = 'off' | 'optional' | 'devices' | 'required';

/** The embedded defaults `sitehub` runs with. */
export const DEFAULT_CONFIG: HubConfig = {
  dataDir: './data',
  databaseFile: 'sitehub.db',
  port: 3000,
  host: 'localhost',
  adminToken: undefined,
  enrollmentKey: undefined,
  logLevel: 'info',
  retentionDays: 30,
  pruneIntervalMs: 3_600_000,
  streamRetentionMs: 0,
  maxMessageBytes: DEFAULT_LIMITS.maxMessageBytes,
  maxReadingsPerBatch: DEFAULT_LIMITS.maxReadingsPerBatch,
  maxValuesPerReading: DEFAULT_LIMITS.maxValuesPerReading,
  maxRecordBytes: DEFAULT_LIMITS.maxRecordBytes,
  maxClockSkewMs: DEFAULT_LIMITS.maxClockSkewMs,
  commandAckTimeoutMs: 10_000,
  commandMaxAttempts: 3,
  commandTtlMs: 24 * 3_600_000,
  writerMaxBatch: 5000,
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
  tlsCert: undefined,
  tlsKey: undefined,
  tlsCa: undefined,
  tlsClientAuth: 'off',
  allowedOrigins: [],
  authFailureWindowMs: 60_000,
  authThrottleAfter: 10,
  authThrottleIntervalMs: 1000,
  authBanAfter: 30,
  authBanMs: 300_000,
  authTrackedMax: 50_000,

  // Connection limits: sized for one hub process under a 20,000 open-file
  // limit, leaving room for REST, /healthz and the database; a site behind
  // one NAT address may need a larger per-address share.
  trustProxy: false,
  allowEio3: false,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 512,
  maxSessions: 8_000,
  maxSessionsPerAddress: 256,
  handshakeRatePerAddress: 20,
  handshakeBurstPerAddress: 60,
  connectTimeoutMs: 10_000,
  upgradesPerTurn: 256,
  connectsPerTurn: 256,
  attachmentTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 10_000,

  database: 'sqlite',
  databasePoolMax: 10,
  databaseStatementTimeoutMs: 15_000,
  databaseConnectTimeoutMs: 5_000,
  fileMaxBytes: 128 * 1024 * 1024,
  fileChunkBytes: 256 * 1024,
  fileWindowChunks: 8,
  fileDeviceQuotaBytes: 1024 * 1024 * 1024,
  fileStoreQuotaBytes: 10 * 1024 * 1024 * 1024,
  fileRetentionDays: 30,

  redis: undefined,
  nodeId: undefined,
  advertiseUrl: undefined,

  alarmWebhookUrl: undefined,
  alarmWebhookAttempts: 5,
  alarmWebhookTimeoutMs: 5_000,
  alarmWebhookQueueMax: 1_000,
  alarmSilenceCheckMs: 1_000,
  alarmRulesRefreshMs: 5_000,
  maxAlarmRules: 1_000,
};

/** What a setting's value must be (validate.ts). */
export type Kind = 'boolean' | 'string' | 'optionalString' | 'optionalName' | 'port' | 'positiveInt' | 'nonNegativeInt' | 'level' | 'optionalPath' | 'clientAuth' | 'origins' | 'trustProxy' | 'httpUrl';

/** The kind of each setting, used to parse environment/flag strings and to validate. */
export const CONFIG_KINDS: Record<keyof HubConfig, Kind> = {
  dataDir: 'string',
  databaseFile: 'string',
  port: 'port',
  host: 'string',
  adminToken: 'optionalString',
  enrollmentKey: 'optionalString',
  logLevel: 'level',
  retentionDays: 'positiveInt',
  pruneIntervalMs: 'positiveInt',
  streamRetentionMs: 'nonNegativeInt',
  maxMessageBytes: 'positiveInt',
  maxReadingsPerBatch: 'positiveInt',
  maxValuesPerReading: 'positiveInt',
  maxRecordBytes: 'positiveInt',
  maxClockSkewMs: 'nonNegativeInt',
  commandAckTimeoutMs: 'positiveInt',
  commandMaxAttempts: 'positiveInt',
  commandTtlMs: 'positiveInt',
  writerMaxBatch: 'positiveInt',
  pingIntervalMs: 'positiveInt',
  pingTimeoutMs: 'positiveInt',
  tlsCert: 'optionalPath',
  tlsKey: 'optionalPath',
  tlsCa: 'optionalPath',
  tlsClientAuth: 'clientAuth',
  allowedOrigins: 'origins',
  authFailureWindowMs: 'positiveInt',
  authThrottleAfter: 'positiveInt',
  authThrottleIntervalMs: 'nonNegativeInt',
  authBanAfter: 'positiveInt',
  authBanMs: 'positiveInt',
  authTrackedMax: 'positiveInt',

  trustProxy: 'trustProxy',
  allowEio3: 'boolean',
  maxConnections: 'nonNegativeInt',
  maxConnectionsPerAddress: 'nonNegativeInt',
  maxSessions: 'nonNegativeInt',
  maxSessionsPerAddress: 'nonNegativeInt',
  handshakeRatePerAddress: 'nonNegativeInt',
  handshakeBurstPerAddress: 'positiveInt',
  connectTimeoutMs: 'positiveInt',
  upgradesPerTurn: 'nonNegativeInt',
  connectsPerTurn: 'nonNegativeInt',
  attachmentTimeoutMs: 'positiveInt',
  headersTimeoutMs: 'positiveInt',
  requestTimeoutMs: 'positiveInt',
  keepAliveTimeoutMs: 'positiveInt',

  database: 'string',
  databasePoolMax: 'positiveInt',
  databaseStatementTimeoutMs: 'positiveInt',
  databaseConnectTimeoutMs: 'positiveInt',
  fileMaxBytes: 'positiveInt',
  fileChunkBytes: 'positiveInt',
  fileWindowChunks: 'positiveInt',
  fileDeviceQuotaBytes: 'positiveInt',
  fileStoreQuotaBytes: 'positiveInt',
  fileRetentionDays: 'positiveInt',

  redis: 'optionalString',
  nodeId: 'optionalName',
  advertiseUrl: 'optionalString',

  alarmWebhookUrl: 'httpUrl',
  alarmWebhookAttempts: 'positiveInt',
  alarmWebhookTimeoutMs: 'positiveInt',
  alarmWebhookQueueMax: 'positiveInt',
  alarmSilenceCheckMs: 'positiveInt',
  alarmRulesRefreshMs: 'positiveInt',
  maxAlarmRules: 'positiveInt',
};
