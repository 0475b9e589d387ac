# Replay driver for the gait engine on the unix port (and CPython): reads
# integer samples from a text stream and prints one line per stride.
#   first line:  rate_hz acc_range_g gyro_range_dps [gyro_lag_us]
#   then:        t_ms ax ay az gx gy gz   (mg and 0.1 deg/s, see gait.py)
#   output:      S t_contact_ms stride_ms contact_ms length_mm flags t_report_ms
#   (t_report_ms: the t_ms of the sample whose push() reported the stride)
# Used by `stridecue steps --engine micropython`; run as
#   micropython -c "import stridepod.gait_replay as r; r.main()" < samples.txt
import sys

from stridepod.gait import GaitEngine


def run(stream, out):
    head = stream.readline().split()
    lag = int(head[3]) if len(head) > 3 else 0
    eng = GaitEngine(int(head[0]), int(head[1]), int(head[2]), lag)
    push = eng.push
    n = 0
    for line in stream:
        f = line.split()
        if len(f) != 7:
            continue
        n += 1
        if push(int(f[0]), int(f[1]), int(f[2]), int(f[3]), int(f[4]), int(f[5]), int(f[6])):
            out.write(
                "S %d %d %d %d %d %s\n"
                % (eng.t_contact_ms, eng.stride_ms, eng.contact_ms, eng.length_mm, eng.flags, f[0])
            )
    out.write("N %d\n" % n)


def main():
    run(sys.stdin, sys.stdout)
