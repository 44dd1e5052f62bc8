// The Socket.IO interoperability scenarios, parameterised by the client:
// `scenarios(io)` gives runnable scenarios; each runs against any
// socket.io-compatible server the runner starts. socketio-client.test.ts runs
// them with socket.io-client against our Server; the same list runs with our
// own client against socket.io's Server by passing the other factory and
// another startServer.
import { connectionScenarios } from './scenarios/connection.js';
import { eventScenarios } from './scenarios/events.js';
import type { ClientFactory, ClientSocket, Scenario, ServerHandle } from './scenarios/harness.js';
import { lifecycleScenarios } from './scenarios/lifecycle.js';
import { roomScenarios } from './scenarios/rooms.js';

export type { ClientFactory, ClientSocket, Scenario, ScenarioContext, ServerHandle } from './scenarios/harness.js';

/** Starts a server on 127.0.0.1:0; `close` stops it and everything it serves. */
export type StartServer = (opts?: Record<string, unknown>) => Promise<ServerHandle & { close(): Promise<void> }>;

export interface RunnableScenario {
  name: string;
  timeout: number;
  run(startServer: StartServer): Promise<void>;
}

/** Every scenario, bound to the client factory `io`; clients and servers are closed after each run. */
export function scenarios(io: ClientFactory): RunnableScenario[] {
  const all: Scenario[] = [...connectionScenarios, ...eventScenarios, ...roomScenarios, ...lifecycleScenarios];
  return all.map((scenario) => ({
    name: scenario.name,
    timeout: scenario.timeout ?? 15_000,
    async run(startServer) {
      const clients: ClientSocket[] = [];
      const servers: Array<{ close(): Promise<void> }> = [];
      try {
        await scenario.run({
          async startServer(opts) {
            const handle = await startServer(opts);
            servers.push(handle);
            return handle;
          },
          client(url, opts) {
            const socket = io(url, { forceNew: true, ...opts });
            clients.push(socket);
            return socket;
          },
        });
      } finally {
        for (const socket of clients) {
          socket.io?.reconnection?.(false);
          socket.disconnect();
        }
        for (const server of servers) await server.close();
      }
    },
  }));
}
