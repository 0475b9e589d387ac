# machine-like fakes (the unix port has a built-in `machine` that a .py cannot
# shadow, and firmware takes hardware objects as arguments anyway): Pin, PWM,
# ADC. They reject what MicroPython's ports reject. The I2C bus with the
# register-level LSM6DSO32 is in lsm6dso32_model.py.


class Pin:
    IN = 0
    OUT = 1
    PULL_UP = 1
    IRQ_FALLING = 2
    IRQ_RISING = 1

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self._v = 1 if pull == Pin.PULL_UP else 0
        if value is not None:
            self._v = 1 if value else 0
        self.handler = None

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = 1 if v else 0
        return None

    def on(self):
        self._v = 1

    def off(self):
        self._v = 0

    def irq(self, handler=None, trigger=3):
        self.handler = handler

    def drive(self, v):
        # the outside world changes the pin (a button press)
        self._v = v
        if self.handler:
            self.handler(self)


class PWM:
    # machine.PWM: duty_u16 in 0..65535, freq in the port's range
    def __init__(self, pin, freq=1000, duty_u16=0):
        self.pin = pin
        self.log = []  # every duty set, in order
        self._duty = 0
        self._freq = 0
        self.freq(freq)
        self.duty_u16(duty_u16)
        self.deinited = False

    def freq(self, f=None):
        if f is None:
            return self._freq
        if not 1 <= f <= 40000000:
            raise ValueError("frequency must be from 1Hz to 40MHz")
        self._freq = f
        return None

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        if not isinstance(d, int) or d < 0 or d > 65535:
            raise ValueError("duty_u16 must be from 0 to 65535")
        self._duty = d
        self.log.append(d)
        return None

    def deinit(self):
        self.deinited = True
        self._duty = 0


class ADC:
    # machine.ADC: read_u16() 0..65535; read_uv() microvolts at the pin
    def __init__(self, pin, full_scale_mv=3300):
        self.pin = pin
        self.full_scale_mv = full_scale_mv
        self.mv = 0  # voltage at the pin, set by the test

    def read_u16(self):
        v = self.mv * 65535 // self.full_scale_mv
        return max(0, min(65535, v))

    def read_uv(self):
        return min(self.mv, self.full_scale_mv) * 1000


class WDT:
    def __init__(self, id=0, timeout=5000):
        if timeout < 1:
            raise ValueError("timeout must be > 0")
        self.timeout = timeout
        self.feeds = 0

    def feed(self):
        self.feeds += 1


class Clock:
    # a settable millisecond clock for logic tests
    def __init__(self, t=0):
        self.t = t

    def __call__(self):
        return self.t

    def advance(self, ms):
        self.t += ms
