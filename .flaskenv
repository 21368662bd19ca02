# Read by `flask` (python-dotenv). Secrets belong in .env, never here.
FLASK_APP=app
