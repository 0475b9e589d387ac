"""Which of a stride's figures the analyzer may judge, from the pod's flags.

The pod's gait engine marks every stride it cannot vouch for (``StrideFlag``); the
analyzer reads those marks once per stride as a plain ``int`` (a mask test, nothing
allocated) and decides, figure by figure, whether the stride may teach the baseline and
move a detector. An untrusted figure is still part of the record: an untrusted length
is ground the athlete covered and counts in distance and splits exactly as any other.

=================  ==========  ===========  =============================================
flag               length      stride time  why
=================  ==========  ===========  =============================================
LOW_QUALITY        not judged  judged       attitude was off or velocity was left at the
                                            landing (ZUPT could not close): the length is
                                            what is wrong, the contacts are still found
TURN               not judged  judged       over 45 degrees of heading change: the length
                                            is the chord of a turn or a pivot, not a
                                            forward stride; the rhythm is real
GAP                not judged  not judged   samples were missing: neither the contacts
                                            nor the integrated path can be relied on
FIRST              judged      not judged   from standing: the stride starts at the
                                            start of the standing stance, so its time
                                            (and contact time) are not gait figures;
                                            its length is (firmware/stridepod/gait.py)
ACC_SATURATED,     judged      judged       clipped: on a 16 g pod nearly every running
GYRO_SATURATED                              stride clips; not judging them would switch
                                            detection off at speed, and the detectors
                                            compare a stride with a baseline learnt from
                                            the same clipped strides. ACC_SATURATED
                                            strides are counted (CLIPPED): what the
                                            sensor lost can make them read short, so a
                                            rep that clipped mostly may read short
                                            (docs/accuracy-record.md, eighth and tenth passes)
BACKFILLED, CUED   judged      judged       sent late / the motor ran: the figures are
                                            measured as any other
=================  ==========  ===========  =============================================

docs/detection.md ("Strides the pod cannot trust") says the same for the coach.
"""

from __future__ import annotations

from stridecue.protocol.records import StrideFlag

#: flags under which a stride's length does not feed the shortening detector or baseline
LENGTH_DOUBT = int(StrideFlag.LOW_QUALITY | StrideFlag.TURN | StrideFlag.GAP)
#: flags under which a stride's time does not feed the rhythm detectors or baseline
TIME_DOUBT = int(StrideFlag.GAP | StrideFlag.FIRST)
#: flags under which a stride's contact time is taken as not measured
CONTACT_DOUBT = int(StrideFlag.FIRST)
#: flags that count a stride as clipped (a rep's ``clipped_strides``): the accelerometer
#: only. It loses the foot's braking at landing (the engine puts that velocity error on the
#: clipped landing) and its push at toe-off (which no ZUPT can see), so the length can read
#: short (the real course's running, 16 g: -5.6 ... +1.4 %; 12-21 % short before issue #19's
#: tenth pass). GYRO_SATURATED alone is not counted: the engine bridges the gyro's
#: plateau, and clipping the course's gyro harder (down to 1,400 deg/s) moved its 38 m of
#: running by 0.1 m or less (docs/accuracy-record.md, eighth pass).
CLIPPED = int(StrideFlag.ACC_SATURATED)


def parse_flags(text: str) -> int:
    """A flags cell as a number: an integer (``36``, ``0x24``), or names joined by ``|``,
    ``+`` or spaces (``LOW_QUALITY|TURN``, case-insensitive); empty is no flags.

    ValueError names what is wrong and the accepted forms.
    """
    text = text.strip()
    if not text:
        return 0
    try:
        value = int(text, 16) if text[:2].lower() == "0x" else int(text)
    except ValueError:
        value = 0
        for name in text.replace("|", " ").replace("+", " ").split():
            flag = StrideFlag.__members__.get(name.upper())
            if flag is None:
                known = ", ".join(StrideFlag.__members__)
                raise ValueError(f"{name!r} is not a stride flag (known: {known})") from None
            value |= int(flag)
        return value
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{text!r} is not a 16-bit flags value (0..65535)")
    return value
