// Kept apart from the commands so `winback help` and argument checks load none of the runtime.

/**
 * `npm start` seeds this many users (`--users` overrides; 10,000 and more work, only slower). Sized
 * so the default demo, 14 simulated days, runs well inside a minute on a 2-core machine: see
 * docs/speed.md for what it costs and what the smaller base still shows.
 */
export const DEMO_DEFAULT_USERS = 2_000;

/**
 * The demo draws 20% of recalls into the holdout (the policy default is 5%): enough matured
 * comparison users by its last day for the uplift to have an interval (see demoPolicy).
 */
export const DEMO_HOLDOUT_SHARE = 0.2;
