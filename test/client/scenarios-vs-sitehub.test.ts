// The shared interop scenarios with our io() against our own Server: the
// same list socket.io-client passes against it (test/interop) and our client
// passes against socket.io's Server (scenarios-vs-socketio.test.ts).
import { describe, it } from 'vitest';
import { io } from '@sitehub/device-client';
import { scenarios, type ClientFactory } from '../interop/scenarios.js';
import { startSitehubServer } from '../interop/sitehub-server.js';

describe('sitehub io() against sitehub Server', () => {
  for (const scenario of scenarios(io as unknown as ClientFactory)) {
    it(scenario.name, () => scenario.run(startSitehubServer), scenario.timeout);
  }
});
