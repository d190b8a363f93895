"""Print the rates a pytest-benchmark JSON of tests/bench/test_bench_gpu.py holds (sentences/s, pairs/s).

    python tests/gpu/rates.py bench-gpu.json
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    data = json.loads(open(path, encoding="utf-8").read())
    print(f"{data['machine_info'].get('cpu', {}).get('brand_raw', '?')}; {data['datetime']}")
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        rate = info.get("sentences_per_second") or info.get("pairs_per_second")
        unit = "sentences/s" if "sentences_per_second" in info else "pairs/s"
        extra = {k: v for k, v in info.items() if not k.endswith("per_second")}
        print(f"{bench['name']:45} median {bench['stats']['median']:8.3f} s  {rate:10.1f} {unit}  {extra}")


if __name__ == "__main__":
    main(sys.argv[1])
