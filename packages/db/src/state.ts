/** The TuistPgInstrumentation instances that are enabled, first one first (its config names the pools). */
export interface Adopter {
  nameOf(pool: object): string | undefined;
}
export const enabledInstrumentations: Adopter[] = [];
