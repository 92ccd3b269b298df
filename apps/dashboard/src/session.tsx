/**
 * The API token lives in sessionStorage only: it is gone when the tab closes, and never goes into a URL
 * (the socket sends it in its handshake `auth`, REST in the Authorization header).
 */
const KEY = 'fedseg.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
