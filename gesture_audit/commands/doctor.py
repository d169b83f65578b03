"""`gesture-audit doctor`: what this machine runs the models on, and why."""

from __future__ import annotations

from typing import Annotated

import typer


def doctor(
    json_out: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False,
) -> None:
    """Show the CPU and its ISA flags, the runtimes installed, the int8 models shipped, and the runtime and
    precision `--runtime auto --precision auto` picks here, with the reason."""
    import json
    import warnings

    from gesture_audit import __version__
    from gesture_audit.runtime import PROFILES, choose, cpu_features, installed_runtimes, model_file

    features = cpu_features()
    runtimes = installed_runtimes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = choose()
    providers = None
    if runtimes["onnxruntime"]:
        import onnxruntime

        providers = onnxruntime.get_available_providers()
    int8 = [
        name
        for name in (
            "palm_detection_full.onnx",
            "hand_landmark_full.onnx",
            "palm_detection_lite.onnx",
            "hand_landmark_lite.onnx",
        )
        if model_file(name, "int8") != name
    ]
    offered = {k: [f"{r} {p}" for r, p in v] for k, v in PROFILES.items()}
    report = {
        "version": __version__,
        "cpu": features,
        "runtimes": runtimes,
        "onnxruntime_providers": providers,
        "int8_models": int8,
        "offered": offered,
        "auto": {"runtime": auto.runtime, "precision": auto.precision, "reason": auto.reason},
    }
    if json_out:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"gesture-audit {__version__}")
    typer.echo(f"CPU:         {features['cpu']} ({features['class']}; flags: {' '.join(features['isa']) or 'none'})")
    for name, version in runtimes.items():
        typer.echo(
            f"{name + ':':13}{version or 'not installed'}"
            + (f" (providers: {', '.join(providers)})" if name == "onnxruntime" and providers else "")
        )
    typer.echo(f"int8:        {', '.join(int8) or 'none shipped'}")
    typer.echo("offered:     " + "; ".join(f"{k}: {', '.join(v)}" for k, v in offered.items()))
    typer.echo(f"auto:        {auto.runtime} {auto.precision} ({auto.reason})")
