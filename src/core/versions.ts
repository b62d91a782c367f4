/** Version helpers shared by the core (no imports). */

/** The docker tag for a CLI version: build metadata (+…) is not allowed in tags. */
export function imageTagForVersion(version: string): string {
  return version.split('+')[0] as string;
}
