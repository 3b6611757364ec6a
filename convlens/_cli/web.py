"""`convlens serve`: parse, start the local web app, print where it listens."""

from __future__ import annotations

from pathlib import Path

import typer

from convlens._cli._output import echo


def serve_command(
    runs: Path = typer.Option(Path("runs"), "--runs", help="The folder of run folders the Runs page lists."),
    data: str = typer.Option("pets-mini", "--data", help="The data folder of the Data page (or a built-in pool)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; anything but loopback needs a token."),
    port: int = typer.Option(8000, "--port", help="TCP port (0: any free port)."),
    token: str | None = typer.Option(
        None, "--token", help="Access token (default: none on loopback, a generated one elsewhere)."
    ),
    max_upload_mb: int = typer.Option(20, "--max-upload-mb", min=1, max=1024, help="Largest photo upload, in MB."),
    allow_host: list[str] = typer.Option(
        [], "--allow-host", help="Another Host name to answer to (a name this machine is reached by)."
    ),
) -> None:
    """The local web app: explain a photo, browse runs (live while training), look inside, see the data.
    Offline; stops with Ctrl+C."""
    from convlens.web.server import serve
    from convlens.web.settings import MB, WebSettings

    settings = WebSettings(
        runs=runs, data=data, host=host, port=port, token=token, max_upload=max_upload_mb * MB, allowed_hosts=allow_host
    )

    def announce(url: str) -> None:
        echo(f"convlens serves {settings.runs} and {settings.data} at {url}")
        if settings.token and token is None:
            echo("(a token was generated because the address is not loopback; the URL above carries it)")
        echo("Press Ctrl+C to stop.")

    serve(settings, announce)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("serve")(serve_command)
