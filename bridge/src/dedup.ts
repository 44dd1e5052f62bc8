// A bounded memory of recently seen keys, for duplicate suppression.

/** Remembers the last `capacity` keys; `seen(key)` is true for a repeat. */
export class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly capacity: number) {}

  /** True if `key` was seen recently; otherwise remembers it. */
  seen(key: string): boolean {
    if (this.keys.has(key)) return true;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      // Sets iterate in insertion order: the first key is the oldest.
      this.keys.delete(this.keys.values().next().value as string);
    }
    return false;
  }
}
