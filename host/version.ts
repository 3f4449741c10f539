// The package's version, as `fwseal --version` prints it. Kept here so the CLI does not look
// for package.json (a directory listing and a file read at every start); a unit test holds it
// equal to package.json's "version".

/** fwseal's version (package.json "version"). */
export const FWSEAL_VERSION = "0.1.0";
