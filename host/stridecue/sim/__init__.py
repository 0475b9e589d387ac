"""The virtual athlete: foot motion, IMU signals with exact truth, scenarios, the simulated pod."""
