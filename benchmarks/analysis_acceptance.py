"""Check issue 10's acceptance figures on the output of ``attractor analyze``.

For each DIR given (written by ``attractor analyze MODEL --fixed-points --lyapunov --out DIR`` on
a shPLRNN trained on Lorenz-63 with the CLI defaults) this prints one Markdown row:

- for each of the three Lorenz-63 equilibria (found on the flow itself, standardised with the
  model's training statistics), the largest standardised-coordinate difference to the nearest
  model fixed point (target <= 0.1), the unstable directions of that model point (target: origin
  1, C± 2 as a complex pair) and whether all model points are unstable;
- the model's Lyapunov spectrum against the system's: λ1 (target within 5 %), λ2 (within 0.05 of
  0) and the sum (within 10 %), and both Kaplan–Yorke dimensions.

    .venv/bin/python benchmarks/analysis_acceptance.py /tmp/l63-a0 /tmp/l63-a1 /tmp/l63-a2
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def row(directory: Path) -> str:
    doc = json.loads((directory / "analysis.json").read_text())
    points = doc["fixed_points"]
    sys_points = doc["system_fixed_points"]
    cells = [directory.name, str(len(points))]
    for m in sorted(doc["fixed_point_matches"],
                    key=lambda m: sys_points[m["system_index"]]["observation"][0]):
        target = sys_points[m["system_index"]]
        origin = abs(target["observation"][2]) < 1e-6
        want = 1 if origin else 2
        good = (m["max_abs_difference"] is not None and m["max_abs_difference"] <= 0.1
                and m["model_n_unstable"] == want and (origin or m["model_unstable_complex"]))
        pair = "" if origin else (" complex" if m["model_unstable_complex"] else " real")
        cells.append(f"{m['max_abs_difference']:.3f} / {m['model_n_unstable']}{pair}"
                     f" {'✓' if good else '✗'}")
    all_unstable = all(not p["stable"] for p in points)
    cells.append("✓" if all_unstable else "✗")
    lyap = doc["lyapunov"]
    model, system = lyap["model"]["exponents"], lyap["system"]["exponents"]
    l1 = abs(model[0] - system[0]) / abs(system[0])
    l2 = abs(model[1])
    total = abs(sum(model) - sum(system)) / abs(sum(system))
    cells += [
        f"{model[0]:.4f} vs {system[0]:.4f} ({100 * l1:.1f} %) {'✓' if l1 <= 0.05 else '✗'}",
        f"{model[1]:.4f} {'✓' if l2 <= 0.05 else '✗'}",
        f"{sum(model):.3f} vs {sum(system):.3f} ({100 * total:.1f} %) "
        f"{'✓' if total <= 0.10 else '✗'}",
        f"{lyap['model']['kaplan_yorke']:.3f} / {lyap['system']['kaplan_yorke']:.3f}",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    print("| run | model fixed points | C- (diff / n_unstable) | origin | C+ | all unstable "
          "| λ1 model vs system | λ2 model | Σλ model vs system | D_KY model / system |")
    print("|" + "---|" * 10)
    for arg in sys.argv[1:]:
        print(row(Path(arg)))


if __name__ == "__main__":
    main()
