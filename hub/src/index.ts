/** @sitehub/hub: the sitehub server. */
export {};
