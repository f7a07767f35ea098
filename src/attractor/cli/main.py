"""Command-line entry point (filled in by the CLI work)."""


def main() -> None:  # pragma: no cover - placeholder until the CLI lands
    raise SystemExit("attractor CLI: not built yet")
