// Root slots retired by statements (SPEC §11) stay retired: the bits live in the state record
// and only grow. Every verifier (install, resume, boot) uses burned-in bits | persisted bits.
// Constrained TS.

import type { DeviceState } from "./flash-layout.js";
import type { VerifierConfig } from "../verify/bundle-verifier.js";

/** Sets the retired-root mask of both verifier configurations from the burned-in bits and the
 *  state record; call after every load of the state and every applied statement. */
export function applyRetiredRoots(burnedIn: number, st: DeviceState, installCfg: VerifierConfig, bootCfg: VerifierConfig): void {
  const m = burnedIn | st.rootRetired;
  installCfg.rootRetired = m;
  bootCfg.rootRetired = m;
}
