// What the HTTP layer needs from the rest of the hub.
import type { IotServices } from '../iot/services.js';
import type { Store } from '../iot/store/types.js';
import type { Server } from '../realtime/index.js';

/** Dependencies handed to every route module. */
export interface HttpDeps {
  services: IotServices;
  store: Store;
  io: Server;
  adminTokenHash: Buffer;
  /** False while starting or shutting down: /readyz answers 503. */
  isAccepting(): boolean;
}
