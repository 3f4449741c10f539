// A real nginx on a loopback port for the suites (scripts/nginx-serve.mjs), typed.
// @ts-expect-error plain ESM helper without type declarations
import { NGINX_BIN as BIN, startNginx as start } from "../../scripts/nginx-serve.mjs";

/** The nginx binary, or null if it is not installed (the suite is then skipped). */
export const NGINX_BIN: string | null = BIN;

/** A running nginx: its base URL and how to stop it. */
export interface NginxServer {
  url: string;
  stop(): void;
}

/** Starts nginx serving `root` (see scripts/nginx-serve.mjs). */
export function startNginx(root: string): Promise<NginxServer> {
  return start(root);
}
