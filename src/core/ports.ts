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
