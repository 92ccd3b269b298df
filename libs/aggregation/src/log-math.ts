// Math functions bound once: hot loops then skip a global lookup, which is slow inside jest's vm context.
const { abs, exp, log, log1p, expm1, max, min } = Math;

/** Numerics in log space for the RDP accountant: sums of huge or tiny positive terms without overflow. */

/** log(e^a + e^b). */
export function logAdd(a: number, b: number): number {
  const hi = max(a, b);
  const lo = min(a, b);
  if (lo === -Infinity) return hi;
  return hi + log1p(exp(lo - hi));
}

/** log(e^a - e^b) for a >= b (-Infinity when equal). */
export function logSub(a: number, b: number): number {
  if (a < b) throw new RangeError(`logSub: log(e^${a} - e^${b}) is the log of a negative number`);
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  const d = b - a;
  // log(1 - e^d): expm1 is accurate near 0, log1p(-e^d) for d far below 0.
  return a + (d > -Math.LN2 ? log(-expm1(d)) : log1p(-exp(d)));
}

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * erf(x) for 0 <= x < 1.5 from the series erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (2n+1)!!
 * (Abramowitz & Stegun 7.1.6): all terms positive, so no cancellation.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 / SQRT_PI) * exp(-x2) * sum;
}

/**
 * log(erfc(x) * e^{x^2} * sqrt(pi)) for x >= 1.5, by the continued fraction
 * erfc(x) = e^{-x^2} / sqrt(pi) * 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))))  (A&S 7.1.14),
 * evaluated with the modified Lentz method (Numerical Recipes, section 5.2).
 */
function logScaledErfcCf(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 5000; k++) {
    const a = k / 2;
    d = x + a * d;
    d = abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const step = c * d;
    f *= step;
    if (abs(step - 1) < 1e-16) break;
  }
  return -log(f);
}

/** log(erfc(x)), accurate in the far tail (x up to 1e150) where erfc itself underflows. */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return -Infinity;
  if (x === -Infinity) return Math.LN2;
  if (abs(x) < 1.5) return log1p(x < 0 ? erfSeries(-x) : -erfSeries(x));
  if (x > 0) return -x * x - log(SQRT_PI) + logScaledErfcCf(x);
  // erfc(x) = 2 - erfc(-x) for x <= -1.5.
  return log(2 - exp(-x * x - log(SQRT_PI) + logScaledErfcCf(-x)));
}
