# battery.py: LiPo curve, both ADC read paths, nonsense readings -> unknown.
from fakes.hw import ADC, Pin
from stridepod.battery import Battery, percent


class U16Adc:
    # an ADC with only read_u16 (rp2): 0..65535 over 0..3300 mV
    def __init__(self, mv):
        self.mv = mv

    def read_u16(self):
        return self.mv * 65535 // 3300


def test_curve_endpoints_and_middle():
    assert percent(3000) == 0 and percent(3300) == 0
    assert percent(3800) == 55 and percent(3850) == 62
    assert percent(4200) == 100 and percent(4350) == 100


def test_divider_and_read_paths():
    adc = ADC(Pin(1), 3100)
    adc.mv = 2000  # 4.0 V cell
    assert Battery(adc, 2, 3100)() == 82
    assert Battery(U16Adc(1850), 2, 3300)() in (29, 30)  # 3.7 V (rounding: 3698 mV)


def test_no_battery_is_unknown():
    adc = ADC(Pin(1), 3100)
    adc.mv = 0
    assert Battery(adc, 2, 3100)() == 255
    adc.mv = 2600  # 5.2 V: USB power on the divider, no cell
    assert Battery(adc, 2, 3100)() == 255
