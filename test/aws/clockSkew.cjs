// Preloaded into a CLI process (NODE_OPTIONS=--require …/clockSkew.cjs) to give it a wrong clock:
// KEYSENTRY_TEST_CLOCK_SKEW_MS milliseconds ahead of (or, negative, behind) the real time, as a
// machine whose clock drifted from AWS's would be. Only `new Date()` and `Date.now()` move; moto
// (AWS) keeps the real time.
'use strict';
const skew = Number(process.env.KEYSENTRY_TEST_CLOCK_SKEW_MS || 0);
if (skew) {
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + skew);
      else super(...args);
    }
    static now() {
      return RealDate.now() + skew;
    }
  }
  globalThis.Date = SkewedDate;
}
