// Starts sitehub's Server for the shared interop scenarios.
import { startSitehubServer as start } from '../helpers/hub-server.js';
import type { StartServer } from './scenarios.js';

/** sitehub's Server on a fresh http server at 127.0.0.1, ephemeral port. */
export const startSitehubServer: StartServer = (opts = {}) => start(opts);
