from manage.cli import app

app(prog_name="python -m manage")
