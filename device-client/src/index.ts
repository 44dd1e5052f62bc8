/** @sitehub/device-client: the sitehub client. */
export {};
