"""Bridge from the fwseal tests to the independent HSS/LMS implementation `hsslms` (PyPI).

Reads one JSON request on stdin and writes one JSON answer on stdout:
  {"op": "verify", "cases": [{"pub": hex, "msg": hex, "sig": hex}, ...]}
      -> {"results": [true|false, ...]}
  {"op": "sign", "keys": [{"lms": [height, ...], "w": 1|2|4|8, "msgs": [hex, ...]}, ...]}
      -> {"keys": [{"pub": hex, "sigs": [hex, ...]}, ...]}
"""
import json
import sys

from hsslms import HSS_Priv, HSS_Pub
from hsslms.utils import LMOTS_ALGORITHM_TYPE, LMS_ALGORITHM_TYPE


def verify(case):
    try:
        HSS_Pub(bytes.fromhex(case["pub"])).verify(bytes.fromhex(case["msg"]), bytes.fromhex(case["sig"]))
        return True
    except Exception:  # hsslms raises INVALID, and IndexError/ValueError on malformed input
        return False


def sign(spec):
    lms = [LMS_ALGORITHM_TYPE[f"LMS_SHA256_M32_H{h}"] for h in spec["lms"]]
    ots = LMOTS_ALGORITHM_TYPE[f"LMOTS_SHA256_N32_W{spec['w']}"]
    priv = HSS_Priv(lms, ots, num_cores=1)
    sigs = [priv.sign(bytes.fromhex(m)).hex() for m in spec["msgs"]]
    return {"pub": priv.gen_pub().get_pubkey().hex(), "sigs": sigs}


def main():
    req = json.load(sys.stdin)
    if req["op"] == "verify":
        out = {"results": [verify(c) for c in req["cases"]]}
    elif req["op"] == "sign":
        out = {"keys": [sign(k) for k in req["keys"]]}
    else:
        raise SystemExit(f"unknown op {req['op']}")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
