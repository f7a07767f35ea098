"""Opening the black box: fixed points, cycles, symbolic dynamics, Koopman spectra and Lyapunov
spectra of trained models.

Everything works on any model of the contract (:mod:`attractor.models.base`) through its
capabilities: a step (fixed and slow points, Lyapunov spectra), piecewise-linear regions (exact
fixed points and cycles, symbolic dynamics). Koopman spectra work on any snapshot pairs (data, or
a model's latent or observed states).

- :mod:`~attractor.analysis.fixed_points`: speed minimisation + Newton (Sussillo & Barak 2013);
- :mod:`~attractor.analysis.pwl`: exact enumeration and the SCYFI search (Eisenmann et al. 2023);
- :mod:`~attractor.analysis.symbolic`: symbol sequences, transition matrices, dwell times;
- :mod:`~attractor.analysis.koopman`, :mod:`~attractor.analysis.dictionaries`: EDMD, kernel EDMD,
  ResDMD residuals and pseudospectra (Colbrook & Townsend 2023);
- :mod:`~attractor.analysis.lyapunov`: a model's Lyapunov spectrum against the system's;
- :mod:`~attractor.analysis.table`: the table of points (CSV / JSON).

Example::

    from attractor.analysis import find_fixed_points, trajectory_states
    states = trajectory_states(model, x_test[:1], 5000)
    table = find_fixed_points(model, states, standardizer=std)
    print(table.summary()); table.to_csv("fixed_points.csv")
"""

from attractor.analysis.dictionaries import (
    RBF,
    Dictionary,
    KernelFeatures,
    Polynomial,
    RandomFourier,
    TimeDelay,
    snapshot_pairs,
)
from attractor.analysis.fixed_points import (
    FixedPointSettings,
    find_equilibria,
    find_fixed_points,
    system_equilibria,
)
from attractor.analysis.flat import FlatDynamics, flat_dynamics, trajectory_states
from attractor.analysis.koopman import (
    KoopmanSpectrum,
    kernel_edmd,
    koopman_spectrum,
    resdmd,
    verified_kernel_edmd,
)
from attractor.analysis.lyapunov import (
    SpectrumComparison,
    compare_lyapunov,
    model_lyapunov_spectrum,
)
from attractor.analysis.pwl import (
    CycleSettings,
    enumerate_cycles,
    enumerate_fixed_points,
    find_cycles,
)
from attractor.analysis.symbolic import SymbolicDynamics, symbolic_dynamics, symbolic_from_codes
from attractor.analysis.table import PointTable

__all__ = [
    "RBF",
    "CycleSettings",
    "Dictionary",
    "FixedPointSettings",
    "FlatDynamics",
    "KernelFeatures",
    "KoopmanSpectrum",
    "PointTable",
    "Polynomial",
    "RandomFourier",
    "SpectrumComparison",
    "SymbolicDynamics",
    "TimeDelay",
    "compare_lyapunov",
    "enumerate_cycles",
    "enumerate_fixed_points",
    "find_cycles",
    "find_equilibria",
    "find_fixed_points",
    "flat_dynamics",
    "kernel_edmd",
    "koopman_spectrum",
    "model_lyapunov_spectrum",
    "resdmd",
    "snapshot_pairs",
    "symbolic_dynamics",
    "symbolic_from_codes",
    "system_equilibria",
    "trajectory_states",
    "verified_kernel_edmd",
]
