from infractl.cli import app

app()
