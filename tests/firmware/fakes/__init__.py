# Fakes at the hardware edge only; each rejects what the real part rejects.
