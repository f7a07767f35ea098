"""``attractor models list | show``: the registered models, their capabilities and recipes."""

from __future__ import annotations

import json

import typer

app = typer.Typer(help="The model zoo: names, families, capabilities, recommended training.",
                  no_args_is_help=True)


@app.command("list")
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """List every registered model (name, family, capabilities)."""
    from attractor.models.registry import model_specs

    specs = [spec.to_dict() for spec in model_specs()]
    if as_json:
        typer.echo(json.dumps(specs))
        return
    for spec in specs:
        caps = ", ".join(spec["capabilities"]) or "-"
        typer.echo(f"{spec['name']:<14} {spec['family']:<12} {spec['recipe']['objective']:<8} "
                   f"{caps}")
        typer.echo(f"{'':<14} {spec['description']}")


@app.command("show")
def show_command(
    name: str = typer.Argument(..., help="Model name."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Hyperparameters (with defaults), capabilities and recipe of one model."""
    from attractor.models.registry import get_spec

    spec = get_spec(name).to_dict()
    if as_json:
        typer.echo(json.dumps(spec))
        return
    typer.echo(f"{spec['name']} ({spec['family']}): {spec['description']}")
    typer.echo(f"capabilities: {', '.join(spec['capabilities']) or '-'}")
    typer.echo("hyperparameters (--set KEY=VALUE):")
    for key, value in spec["hyperparameters"].items():
        typer.echo(f"  {key} = {value}")
    typer.echo(f"recipe: {json.dumps(spec['recipe'])}")
