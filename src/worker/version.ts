/** Version of the in-sandbox worker; reported in the `ready` frame. */
export const WORKER_VERSION = '1.0.0';
