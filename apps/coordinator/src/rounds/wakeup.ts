/** Lets a loop sleep until either something it cares about happens or a timeout passes. */
export class Wakeup {
  private pending: (() => void) | null = null;
  private signalled = false;

  notify(): void {
    this.signalled = true;
    const resolve = this.pending;
    this.pending = null;
    resolve?.();
  }

  /**
   * Resolves at the next notify() (or at once if one came since the last wait), or after timeoutMs; true when
   * a notify() woke it.
   */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.signalled) {
      this.signalled = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.pending = null;
          resolve(false);
        },
        Math.max(0, Math.min(timeoutMs, 2 ** 31 - 1)),
      );
      this.pending = () => {
        clearTimeout(timer);
        this.signalled = false;
        resolve(true);
      };
    });
  }
}
