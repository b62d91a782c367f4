/**
 * Storage ports the core uses. src/store implements them (JsonFile satisfies Records).
 */
export interface Records<T> {
  read(): Promise<T>;
  update<R>(fn: (value: T) => R | Promise<R>): Promise<R>;
}

export interface CredentialSource {
  /** The key for a provider: vault first, then the provider's environment variable. */
  get(provider: string, envVar: string | undefined): Promise<{ value: string; source: 'vault' | 'env' } | undefined>;
}

/** The personas Logos ships (templates/personas/<name>.md): system prompts picked by name. */
export interface PersonaSource {
  /** Names of the personas there are, sorted. */
  list(): Promise<string[]>;
  /** The text of one persona from list(). */
  read(name: string): Promise<string>;
}
