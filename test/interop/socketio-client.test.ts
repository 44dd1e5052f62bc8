// The interop scenarios with the official socket.io-client 4.8.4 against our Server.
import { describe, it } from 'vitest';
import { io as ioClient } from 'socket.io-client';
import { scenarios, type ClientFactory } from './scenarios.js';
import { startSitehubServer } from './sitehub-server.js';

describe('socket.io-client 4.8.4 against sitehub Server', () => {
  for (const scenario of scenarios(ioClient as unknown as ClientFactory)) {
    it(scenario.name, () => scenario.run(startSitehubServer), scenario.timeout);
  }
});
