from chatcart.cli import app

app()
