from loaders.cli import app

app(prog_name="python -m loaders")
